// `npm run build:control-plane`: builds (or finds cached) etcd, kube-apiserver, helm and external-dns, so the
// first test run does not spend its time limits on Go builds.
import { ensureGoBinary } from './go-binaries.ts';

for (const tool of ['etcd', 'kube-apiserver', 'helm', 'external-dns'] as const) {
  const path = await ensureGoBinary(tool, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${tool}: ${path}\n`);
}
