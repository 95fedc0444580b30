import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../harness/stack/ports.ts';
import { splitHostPort } from '../../harness/stack/dns-records.ts';

/**
 * What the proxy does with each query:
 * - forward: pass it to the upstream server and the answer back (UDP and TCP);
 * - servfail: answer SERVFAIL itself;
 * - drop: never answer (the client times out);
 * - closed: nothing listens on the port any more (ICMP port unreachable / TCP RST: an unreachable resolver).
 */
export type DnsFaultMode = 'forward' | 'servfail' | 'drop' | 'closed';

export interface DnsFaultProxy {
  /** ip:port to give the operator as --dns-servers. */
  readonly address: string;
  readonly mode: DnsFaultMode;
  setMode(mode: DnsFaultMode): Promise<void>;
  /** Queries seen per mode (UDP and TCP together). */
  counts(): Record<DnsFaultMode, number>;
  close(): Promise<void>;
}

const HEADER_BYTES = 12;
const RCODE_SERVFAIL = 2;

/** A DNS proxy on a loopback port, placed between the operator and BIND, that injects DNS faults on demand. */
export async function startDnsFaultProxy(upstream: string): Promise<DnsFaultProxy> {
  const [upstreamHost, upstreamPort] = splitHostPort(upstream);
  const port = await freePort(true);
  const host = '127.0.0.1';
  let mode: DnsFaultMode = 'forward';
  const counts: Record<DnsFaultMode, number> = { forward: 0, servfail: 0, drop: 0, closed: 0 };
  let udp: UdpSocket | undefined;
  let tcp: Server | undefined;
  const connections = new Set<Socket>();

  const onUdpQuery = (query: Buffer, client: { address: string; port: number }) => {
    counts[mode]++;
    if (mode === 'drop') return;
    if (mode === 'servfail') {
      const answer = servfail(query);
      if (answer) udp?.send(answer, client.port, client.address);
      return;
    }
    const out = createSocket('udp4');
    const timer = setTimeout(() => out.close(), 5_000);
    out.on('error', () => {
      clearTimeout(timer);
      out.close();
    });
    out.once('message', (answer) => {
      clearTimeout(timer);
      out.close();
      // The mode may have changed while upstream answered: only a forwarding proxy passes it on.
      if (mode === 'forward') udp?.send(answer, client.port, client.address);
    });
    out.send(query, upstreamPort, upstreamHost);
  };

  const onTcpConnection = (socket: Socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    if (mode === 'forward') {
      counts.forward++;
      const out = createConnection({ host: upstreamHost, port: upstreamPort });
      out.on('error', () => socket.destroy());
      socket.on('close', () => out.destroy());
      out.on('close', () => socket.destroy());
      socket.pipe(out);
      out.pipe(socket);
      return;
    }
    // servfail / drop: read length-prefixed messages and answer (or not) each one.
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const query = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        counts[mode]++;
        if (mode !== 'servfail') continue;
        const answer = servfail(query);
        if (!answer) continue;
        const framed = Buffer.alloc(2 + answer.length);
        framed.writeUInt16BE(answer.length, 0);
        answer.copy(framed, 2);
        socket.write(framed);
      }
    });
  };

  async function open(): Promise<void> {
    udp = createSocket('udp4');
    udp.on('message', onUdpQuery);
    udp.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      udp!.once('error', reject);
      udp!.bind(port, host, () => {
        udp!.off('error', reject);
        resolve();
      });
    });
    tcp = createServer(onTcpConnection);
    await new Promise<void>((resolve, reject) => {
      tcp!.once('error', reject);
      tcp!.listen(port, host, () => {
        tcp!.off('error', reject);
        resolve();
      });
    });
  }

  async function shut(): Promise<void> {
    const [u, t] = [udp, tcp];
    udp = undefined;
    tcp = undefined;
    for (const socket of connections) socket.destroy();
    connections.clear();
    if (u) await new Promise<void>((resolve) => u.close(() => resolve()));
    if (t) await new Promise<void>((resolve) => t.close(() => resolve()));
  }

  await open();
  return {
    address: `${host}:${port}`,
    get mode() {
      return mode;
    },
    async setMode(next) {
      if (next === mode) return;
      if (next === 'closed') await shut();
      else if (mode === 'closed') await open();
      // Connections opened under another mode keep that behaviour; start each mode clean.
      else for (const socket of connections) socket.destroy();
      mode = next;
    },
    counts: () => ({ ...counts }),
    close: shut,
  };
}

/** A SERVFAIL answer to `query`: same ID, opcode, RD and question; no records. Undefined if it cannot be parsed. */
export function servfail(query: Buffer): Buffer | undefined {
  if (query.length < HEADER_BYTES) return undefined;
  const questions = query.readUInt16BE(4);
  let offset = HEADER_BYTES;
  for (let q = 0; q < questions; q++) {
    // QNAME: length-prefixed labels up to a zero byte (queries carry no compression pointers).
    for (;;) {
      if (offset >= query.length) return undefined;
      const length = query[offset]!;
      if (length === 0) {
        offset += 1;
        break;
      }
      if (length >= 0xc0) {
        offset += 2;
        break;
      }
      offset += 1 + length;
    }
    offset += 4; // QTYPE, QCLASS
    if (offset > query.length) return undefined;
  }
  const answer = Buffer.from(query.subarray(0, offset));
  const flags = query.readUInt16BE(2);
  const opcodeAndRd = flags & 0x7900; // opcode (bits 11-14) and RD (bit 8)
  answer.writeUInt16BE(0x8000 | opcodeAndRd | 0x0080 | RCODE_SERVFAIL, 2); // QR, RA, RCODE
  answer.writeUInt16BE(0, 6); // ANCOUNT
  answer.writeUInt16BE(0, 8); // NSCOUNT
  answer.writeUInt16BE(0, 10); // ARCOUNT
  return answer;
}
