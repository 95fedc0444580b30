import { SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { afterAll } from 'vitest';
import { startSesSimulator, type SesSimulator, type SesSimulatorOptions } from '../../../harness/simulator/server.ts';

export const ACCOUNT = '123456789012';

/**
 * In-process simulators and real @aws-sdk/client-sesv2 clients for one test file, all closed after
 * it. A client signs for the region it is given, which is the region the simulator files its calls under.
 */
export function simulatorHarness(defaults: SesSimulatorOptions = {}) {
  const clients: SESv2Client[] = [];
  const simulators: SesSimulator[] = [];
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await Promise.all(simulators.map((sim) => sim.close()));
  });
  return {
    async simulator(options: SesSimulatorOptions = {}): Promise<SesSimulator> {
      const sim = await startSesSimulator({ region: 'us-east-1', dkimCheckIntervalMs: 3_600_000, ...defaults, ...options });
      simulators.push(sim);
      return sim;
    },
    client(sim: SesSimulator, region = sim.region, config: Partial<SESv2ClientConfig> = {}): SESv2Client {
      const client = new SESv2Client({
        endpoint: sim.url,
        region,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
        ...config,
      });
      clients.push(client);
      return client;
    },
  };
}

export const identityArn = (name: string, region: string) => `arn:aws:ses:${region}:${ACCOUNT}:identity/${name}`;
