import { Observable, defer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { RetryInfo, retryBackoff } from '../../src/streams/retryBackoff';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const base = { initialMs: 10, maxMs: 40, factor: 2, jitter: () => 1 };

/** Each subscription gets the next observable of the list (the last one repeats). */
function attempts<T>(list: Observable<T>[]): Observable<T> {
  let n = 0;
  return defer(() => list[Math.min(n++, list.length - 1)]!);
}

describe('retryBackoff', () => {
  it('passes values and completion through without retrying', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b|');
      expectObservable(src.pipe(retryBackoff({ ...base, scheduler: ts }))).toBe('-a-b|');
      expectSubscriptions(src.subscriptions).toBe('^---!');
    });
  });

  it('resubscribes after errors with delays that grow by factor and cap at maxMs', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-#');
      const retries: RetryInfo[] = [];
      const out = src.pipe(retryBackoff({ ...base, scheduler: ts, onRetry: (r) => retries.push(r) }));
      expectObservable(out, '^ 120ms !').toBe('-');
      // errors at 1, 12, 33, 74, 115; waits 10, 20, 40, 40 (capped)
      expectSubscriptions(src.subscriptions).toBe(['^!', '11ms ^!', '32ms ^!', '73ms ^!', '114ms ^!']);
      ts.flush();
      expect(retries.map((r) => [r.attempt, r.delayMs])).toEqual([
        [1, 10],
        [2, 20],
        [3, 40],
        [4, 40],
        [5, 40],
      ]);
      expect(retries[0]!.error).toBe('error');
    });
  });

  it('resets the backoff once an attempt has emitted a value', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold('-#');
      const a2 = cold('-#');
      const a3 = cold('-a-#'); // healthy: emitted before failing
      const a4 = cold('-#');
      const a5 = cold('-----');
      const delays: number[] = [];
      const out = attempts([a1, a2, a3, a4, a5]).pipe(
        retryBackoff({ ...base, scheduler: ts, onRetry: (r) => delays.push(r.delayMs) }),
      );
      expectObservable(out, '^ 80ms !').toBe('33ms a');
      expectSubscriptions(a3.subscriptions).toBe('32ms ^--!');
      expectSubscriptions(a4.subscriptions).toBe('45ms ^!'); // 35 + 10: back to initialMs
      expectSubscriptions(a5.subscriptions).toBe('66ms ^ 14ms !'); // 46 + 20
      ts.flush();
      expect(delays).toEqual([10, 20, 10, 20]);
    });
  });

  it('with resetAfterMs, does not reset for an attempt that emitted but died young', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a3 = cold('-a-#'); // lives 3 frames < resetAfterMs
      const a5 = cold('-a-------#'); // lives 9 frames >= resetAfterMs
      const src = attempts([cold('-#'), cold('-#'), a3, cold('-#'), a5, cold('-----')]);
      const delays: number[] = [];
      const out = src.pipe(
        retryBackoff({ ...base, resetAfterMs: 5, scheduler: ts, onRetry: (r) => delays.push(r.delayMs) }),
      );
      expectObservable(out, '^ 150ms !').toBe('33ms a 83ms a');
      // a3 fails at 35 (no reset) + 40 -> a4 at 75, fails at 76 + 40 -> a5 at 116, lives 9 -> reset
      expectSubscriptions(a5.subscriptions).toBe('116ms ^--------!');
      ts.flush();
      expect(delays).toEqual([10, 20, 40, 40, 10]);
    });
  });

  it('with resetAfterMs, resets for an attempt that emitted and stayed up as long as the wait before it', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // Emitted, then up 12 frames: longer than initialMs and the wait before it (10), far shorter than
      // resetAfterMs. Up 2 frames after a wait of 10 is not; nor 12 after 20, but 47 after 40 is.
      const up = cold('-a 10ms #');
      const src = attempts([cold('-#'), up, up, cold('-a#'), up, cold('-a 45ms #'), cold('-----')]);
      const delays: number[] = [];
      const out = src.pipe(
        retryBackoff({ ...base, resetAfterMs: 1000, scheduler: ts, onRetry: (r) => delays.push(r.delayMs) }),
      );
      // Subscribed at 0, 11, 33, 55, 77 (after 10, 10, 10, 20), 129 (after 40), 186 (after 10).
      expectObservable(out, '^ 200ms !').toBe('12ms a 21ms a 21ms a 21ms a 51ms a');
      ts.flush();
      expect(delays).toEqual([10, 10, 10, 20, 40, 10]);
    });
  });

  it('applies the injected jitter to each delay', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const seq = [0.5, 0.25, 1, 0];
      let i = 0;
      const src = cold('-#');
      const out = src.pipe(retryBackoff({ ...base, jitter: () => seq[i++ % seq.length]!, scheduler: ts }));
      expectObservable(out, '^ 40ms !').toBe('-');
      // waits 10*0.5=5, 20*0.25=5, 40*1=40 -> subscriptions at 0, 6, 12, 53
      expectSubscriptions(src.subscriptions).toBe(['^!', '6ms ^!', '12ms ^!']);
    });
  });

  it('ends the wait after an attempt that never emitted when retryNow$ says the source answers again', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const src = cold('-#');
      // Errors at 1 (wait 10, cut at 2), 3 (wait 20, cut at 20), 21 (wait 40, cut at 30), 31 (wait 40).
      const answered = hot('--x 17ms x 9ms x');
      const retries: RetryInfo[] = [];
      const out = src.pipe(
        retryBackoff({ ...base, retryNow$: answered, scheduler: ts, onRetry: (r) => retries.push(r) }),
      );
      expectObservable(out, '^ 60ms !').toBe('-');
      ts.flush();
      expect(retries.map((r) => r.cutByRetryNow)).toEqual([true, true, true, true]); // told, for its log line
      expectSubscriptions(src.subscriptions).toBe(['^!', '2ms ^!', '20ms ^!', '30ms ^!']);
    });
  });

  it('lets an attempt that emitted and then died wait its backoff out, whatever retryNow$ says', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a1 = cold('-a#'); // attached, then dropped at once
      const a2 = cold('-----');
      const answered = hot('-----x');
      const retries: RetryInfo[] = [];
      const out = attempts([a1, a2]).pipe(
        retryBackoff({ ...base, retryNow$: answered, scheduler: ts, onRetry: (r) => retries.push(r) }),
      );
      expectObservable(out, '^ 20ms !').toBe('-a');
      expectSubscriptions(a2.subscriptions).toBe('12ms ^ 8ms !'); // 2 + 10: not cut at 5
      ts.flush();
      expect(retries.map((r) => r.cutByRetryNow)).toEqual([false]);
    });
  });
});
