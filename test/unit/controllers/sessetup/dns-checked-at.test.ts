import { describe, expect, it } from 'vitest';
import { UNVERIFIED_CHECKED_AT_REFRESH_MS } from '../../../../src/controllers/sessetup/steps/dns.ts';
import { fastPaceSchedule, newSetup, reconcilerFixture } from './fixture.ts';

describe('status.dnsCheckedAt while a record is unverified', () => {
  let fixture: ReturnType<typeof reconcilerFixture>;
  const stored = (name = 'a') => fixture.cluster.objects.get(name)!;

  it('records not live at a fast pace: a look that finds nothing new writes status at most every 10 s', async () => {
    fixture = reconcilerFixture({ schedule: fastPaceSchedule() });
    fixture.apply(newSetup('a'));
    await fixture.reconciler.reconcile('a');
    const [writes, checkedAt] = [fixture.cluster.writes, stored().status!.dnsCheckedAt];
    for (let look = 0; look < 5; look++) {
      fixture.clock.now += 100;
      await fixture.reconciler.reconcile('a');
    }
    expect(fixture.cluster.writes).toBe(writes);
    expect(stored().status!.dnsCheckedAt).toBe(checkedAt);
    fixture.clock.now += UNVERIFIED_CHECKED_AT_REFRESH_MS;
    await fixture.reconciler.reconcile('a');
    expect(fixture.cluster.writes).toBe(writes + 1);
    expect(stored().status!.dnsCheckedAt).toBe(new Date(fixture.clock.now).toISOString());
  });

  it('a time ahead of the clock (written by a replica whose clock ran ahead) is moved at the next look', async () => {
    fixture = reconcilerFixture({ schedule: fastPaceSchedule() });
    fixture.apply(newSetup('a'));
    await fixture.reconciler.reconcile('a');
    stored().status!.dnsCheckedAt = new Date(fixture.clock.now + 60_000).toISOString();
    fixture.clock.now += 100;
    await fixture.reconciler.reconcile('a');
    expect(stored().status!.dnsCheckedAt).toBe(new Date(fixture.clock.now).toISOString());
  });
});
