import { describe, expect, it } from 'vitest';
import { ReviewCache } from '../../../src/rest-api/review-cache.ts';

describe('ReviewCache', () => {
  it('reuses an answer until its TTL, shares concurrent loads, and does not keep failures', async () => {
    let now = 0;
    let calls = 0;
    const cache = new ReviewCache<string>({ ttlMs: 10_000, now: () => now });
    const load = async () => `answer ${++calls}`;
    expect(await Promise.all([cache.get('k', load), cache.get('k', load), cache.get('k', load)])).toEqual(['answer 1', 'answer 1', 'answer 1']);
    now = 9_999;
    expect(await cache.get('k', load)).toBe('answer 1');
    now = 10_000;
    expect(await cache.get('k', load)).toBe('answer 2');
    await expect(cache.get('down', async () => Promise.reject(new Error('unreachable')))).rejects.toThrow('unreachable');
    expect(await cache.get('down', load)).toBe('answer 3');
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const cache = new ReviewCache<number>({ ttlMs: 60_000, maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) await cache.get(key, async () => 1);
    expect(cache.size).toBe(2);
    let reloaded = false;
    await cache.get('a', async () => ((reloaded = true), 2));
    expect(reloaded).toBe(true);
  });
});
