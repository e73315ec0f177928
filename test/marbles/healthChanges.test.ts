import { TestScheduler } from 'rxjs/testing';
import type { Health } from '../../src/admin/statusTypes';
import { healthChanges } from '../../src/streams/healthChanges';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

const healthy: Health = { healthy: true };
const wedged = (s: number): Health => ({ healthy: false, reason: `HAProxy has not answered for ${s} s` });

describe('healthChanges', () => {
  it('emits when the verdict turns, not at each reading nor when only the reason changes', () => {
    const ts = newScheduler();
    ts.run(({ expectObservable }) => {
      // Readings at 10, 20, 30, … ms: healthy, healthy, wedged (31 s), wedged (41 s), healthy, healthy.
      const readings = [healthy, healthy, wedged(31), wedged(41), healthy, healthy];
      let i = 0;
      const health = (): Health => readings[Math.min(i++, readings.length - 1)]!;
      expectObservable(healthChanges(health, 10, ts), '^ 70ms !').toBe('30ms a 19ms b', {
        a: wedged(31),
        b: healthy,
      });
    });
  });

  it('an unhealthy first reading is a change; a healthy one is not', () => {
    const ts = newScheduler();
    ts.run(({ expectObservable }) => {
      expectObservable(
        healthChanges(() => wedged(40), 10, ts),
        '^ 40ms !',
      ).toBe('10ms a', { a: wedged(40) });
      expectObservable(
        healthChanges(() => healthy, 10, ts),
        '^ 40ms !',
      ).toBe('');
    });
  });
});
