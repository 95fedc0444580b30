import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeAccess } from '../../src/runtime/kube-http.ts';

export interface LoopbackHttp {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Stops listening and ends every connection, even one a test left hanging. */
  close(): Promise<void>;
}

/** An HTTP server on a free loopback port, standing in for an SES endpoint or an API server in a test. */
export async function startLoopbackHttp(handler: RequestListener): Promise<LoopbackHttp> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** API server access for the operator's HTTP client, pointed at a loopback stand-in. */
export function loopbackKube(url: string): KubeAccess {
  return { getCurrentCluster: () => ({ server: url }), applyToHTTPSOptions: async () => {} };
}
