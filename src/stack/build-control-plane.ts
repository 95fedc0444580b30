// `npm run build:control-plane`: builds (or finds cached) etcd and kube-apiserver, so the first
// test run does not spend its time limits on a Go build.
import { ensureGoBinary } from './go-binaries.ts';

for (const tool of ['etcd', 'kube-apiserver'] as const) {
  const path = await ensureGoBinary(tool, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${tool}: ${path}\n`);
}
