import { baseDelay, nextDelay } from '../../src/streams/backoff';

describe('backoff', () => {
  const opts = { initialMs: 3000, maxMs: 300_000, factor: 1.5, jitter: () => 1 };

  it('grows by factor from initialMs and caps at maxMs', () => {
    expect([0, 1, 2, 3].map((a) => nextDelay(a, opts))).toEqual([3000, 4500, 6750, 10125]);
    expect(nextDelay(20, opts)).toBe(300_000);
    expect(nextDelay(10_000, opts)).toBe(300_000); // no Infinity/NaN for huge attempts
  });

  it('scales the base delay by the injected jitter, clamped to 0..1', () => {
    expect(nextDelay(1, { ...opts, jitter: () => 0.5 })).toBe(2250);
    expect(nextDelay(1, { ...opts, jitter: () => 0 })).toBe(0);
    expect(nextDelay(1, { ...opts, jitter: () => 7 })).toBe(4500);
    expect(nextDelay(1, { ...opts, jitter: () => -1 })).toBe(0);
  });

  it('exposes the un-jittered base delay', () => {
    expect(baseDelay(0, opts)).toBe(3000);
    expect(baseDelay(50, opts)).toBe(300_000);
  });
});
