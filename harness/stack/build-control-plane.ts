// `npm run build:control-plane`: checks the machine's prerequisites, then builds (or finds cached)
// every Go-built tool (etcd, kube-apiserver, kubectl, helm, argocd-health, external-dns), so the first test run
// does not spend its time limits on Go builds.
import { ensureGoBinary, GO_TOOLS } from './go-binaries.ts';
import { ensurePrerequisites } from './prerequisites.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);
try {
  await ensurePrerequisites({ goTools: GO_TOOLS, log });
  for (const tool of GO_TOOLS) {
    const started = Date.now();
    const path = await ensureGoBinary(tool, log);
    process.stdout.write(`${tool}: ${path} (${Math.round((Date.now() - started) / 1000)} s)\n`);
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
