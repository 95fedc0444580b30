import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { OperatorMetrics } from '../../../src/runtime/metrics.ts';
import { SetupSeries } from '../../../src/runtime/setup-series.ts';

const READY_HELP = '1 when the SesSetup is Ready, else 0';
const VERIFIED_HELP = 'DNS records of the SesSetup currently verified';

/** The same two gauges as prom-client renders them: the reference for the text our series write. */
async function promClientText(setups: [name: string, ready: boolean, verified: number][]): Promise<string> {
  const registry = new Registry();
  const ready = new Gauge({ name: 'ses_operator_sessetup_ready', help: READY_HELP, labelNames: ['name'], registers: [registry] });
  const verified = new Gauge({ name: 'ses_operator_sessetup_verified_records', help: VERIFIED_HELP, labelNames: ['name'], registers: [registry] });
  for (const [name, isReady, count] of setups) {
    ready.set({ name }, isReady ? 1 : 0);
    verified.set({ name }, count);
  }
  return registry.metrics();
}

describe('SetupSeries: the per-setup gauges without an object per series', () => {
  it('renders the same families, lines and values as prom-client does for the same gauges', async () => {
    const setups: [string, boolean, number][] = [
      ['shop', true, 5],
      ['blog', false, 2],
      ['odd"name\\with\nescapes', false, 0],
    ];
    const series = new SetupSeries();
    for (const [name, ready, verified] of setups) series.set(name, ready, verified);
    // prom-client separates families with a blank line too; compare the meaningful lines.
    const lines = (text: string) => text.split('\n').filter(Boolean);
    expect(lines([...series.render()].join(''))).toEqual(lines(await promClientText(setups)));
    // In pieces of any size, the same text.
    const pieces = [...series.render(1)];
    expect(pieces.length).toBeGreaterThan(2);
    expect(pieces.join('')).toBe([...series.render()].join(''));
  });

  it('follows changes and forgets deleted setups', async () => {
    const series = new SetupSeries();
    series.set('a', false, 1);
    series.set('b', true, 5);
    series.set('a', true, 4);
    series.delete('b');
    const lines = (text: string) => text.split('\n').filter(Boolean);
    expect(lines([...series.render()].join(''))).toEqual(lines(await promClientText([['a', true, 4]])));
  });
});

describe('OperatorMetrics.exposition: what /metrics serves', () => {
  it('holds the registry families and the per-setup series, each family once', async () => {
    const metrics = new OperatorMetrics();
    metrics.observeSetup('shop', {
      conditions: [{ type: 'Ready', status: 'True' }],
      dnsRecords: [{ verified: true }, { verified: false }, { verified: true }],
    });
    metrics.observeSetup('gone', undefined);
    metrics.forgetSetup('gone');
    const text = [...(await metrics.exposition())].join('');
    expect(text).toContain('ses_operator_sessetup_ready{name="shop"} 1\n');
    expect(text).toContain('ses_operator_sessetup_verified_records{name="shop"} 2\n');
    expect(text).not.toContain('name="gone"');
    expect(text).toContain('\n# TYPE ses_operator_ses_calls_total counter\n');
    const types = text.split('\n').filter((line) => line.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
  });
});
