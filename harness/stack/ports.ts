import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

/** Asks the kernel for an unused loopback TCP port (and checks UDP too when `udp` is set, for DNS). */
export async function freePort(udp = false): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (!udp || (await udpPortFree(port))) return port;
  }
  throw new Error('could not find a free loopback port');
}

function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}
