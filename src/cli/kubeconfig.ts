import { KubeConfig } from '@kubernetes/client-node';

/** --kubeconfig if given, else in-cluster when running in a pod, else the default (~/.kube/config, $KUBECONFIG). */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster configured: pass --kubeconfig or set KUBECONFIG');
  return kc;
}
