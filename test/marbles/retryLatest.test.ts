import { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { BackoffOptions } from '../../src/streams/backoff';
import { retryLatest, type FetchFailure } from '../../src/streams/retryLatest';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const backoff: BackoffOptions = { initialMs: 10, maxMs: 40, factor: 2, jitter: () => 1 };

describe('retryLatest', () => {
  it('fetches once per trigger and passes the results on', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const out = hot('-a-------b', { a: 1, b: 2 }).pipe(
        retryLatest((n: number) => cold('--(x|)', { x: n * 10 }), { backoff, scheduler: ts }),
      );
      expectObservable(out).toBe('---x-------y', { x: 10, y: 20 });
    });
  });

  it('lets a fetch under way finish, then fetches once for the newest trigger that came meanwhile', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const fetches = { a: cold('----(A|)'), b: cold('----(B|)'), c: cold('----(C|)') };
      const out = hot('-a-bc').pipe(
        retryLatest((t: string) => fetches[t as 'a' | 'b' | 'c'], { backoff, scheduler: ts }),
      );
      expectObservable(out).toBe('-----A---C');
      expectSubscriptions(fetches.a.subscriptions).toBe('-^---!');
      expectSubscriptions(fetches.b.subscriptions).toBe([]);
      expectSubscriptions(fetches.c.subscriptions).toBe('-----^---!');
    });
  });

  it('retries a failed fetch with a growing, capped backoff until it succeeds, telling each failure', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failing = cold('-#', undefined, new Error('HTTP 503'));
      const good = cold('-(v|)', { v: 'apps' });
      let n = 0;
      const failures: FetchFailure[] = [];
      const fetch = (): Observable<string> => (n++ < 4 ? failing : good);
      const out = hot('a').pipe(retryLatest(fetch, { backoff, scheduler: ts, onFailure: (f) => failures.push(f) }));
      // Fails at 1, 12, 33, 74 (waits 10, 20, 40, 40 after each), succeeds at 115.
      expectObservable(out).toBe('115ms v', { v: 'apps' });
      expectSubscriptions(failing.subscriptions).toBe(['^!', '11ms ^!', '32ms ^!', '73ms ^!']);
      expectSubscriptions(good.subscriptions).toBe('114ms ^!');
      ts.flush();
      expect(failures.map((f) => [f.attempt, f.retryInMs, (f.error as Error).message])).toEqual([
        [1, 10, 'HTTP 503'],
        [2, 20, 'HTTP 503'],
        [3, 40, 'HTTP 503'],
        [4, 40, 'HTTP 503'],
      ]);
    });
  });

  it('a newer trigger during a backoff waits for what is left of it, then fetches once for itself', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failing = cold('-#', undefined, new Error('timeout'));
      const fetches: Record<string, Observable<string>> = { a: failing, b: cold('-(B|)') };
      // a fails at 1 → retry due at 11; b arrives at 5 and cancels a's retry, but starts only at 11.
      const out = hot('a----b').pipe(retryLatest((t: string) => fetches[t]!, { backoff, scheduler: ts }));
      expectObservable(out).toBe('------------B');
      expectSubscriptions(failing.subscriptions).toBe('^!');
      expectSubscriptions((fetches.b as ReturnType<typeof cold>).subscriptions).toBe('-----------^!');
    });
  });

  it('a trigger that cuts the backoff (an operator SIGHUP) fetches at once', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failing = cold('-#', undefined, new Error('timeout'));
      const fetches: Record<string, Observable<string>> = { a: failing, h: cold('-(H|)') };
      // a fails at 1 → retry due at 11; h (a SIGHUP) arrives at 5 and is fetched at once.
      const cutsBackoff = (): boolean => ts.now() === 5;
      const out = hot('a----h').pipe(retryLatest((t: string) => fetches[t]!, { backoff, scheduler: ts, cutsBackoff }));
      expectObservable(out).toBe('------H');
      expectSubscriptions((fetches.h as ReturnType<typeof cold>).subscriptions).toBe('-----^!');
    });
  });

  it('a trigger that waits at most part of a backoff (a Marathon event) shortens it, counted from the failure', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failing = cold('-#', undefined, new Error('HTTP 500'));
      const fetches: Record<string, Observable<string>> = { a: failing, e: cold('-(E|)') };
      // a fails at 1 (backoff 10: due at 11); e at 4 waits at most 4 from that failure: fetched at 5, not 11.
      const out = hot('a---e').pipe(
        retryLatest((t: string) => fetches[t]!, { backoff, scheduler: ts, waitsAtMost: () => 4 }),
      );
      expectObservable(out).toBe('------E');
      expectSubscriptions((fetches.e as ReturnType<typeof cold>).subscriptions).toBe('-----^!');
    });
  });

  it('a trigger that waits at most more than what is left of a backoff waits only what is left', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const failing = cold('-#', undefined, new Error('HTTP 500'));
      const fetches: Record<string, Observable<string>> = { a: failing, e: cold('-(E|)') };
      const out = hot('a---e').pipe(
        retryLatest((t: string) => fetches[t]!, { backoff, scheduler: ts, waitsAtMost: () => 50 }),
      );
      expectObservable(out).toBe('------------E'); // due at 11 as without it
    });
  });

  it('a success resets the backoff; a synchronous throw counts as a failed fetch', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      let n = 0;
      const delays: number[] = [];
      const fetch = (): Observable<string> => {
        const i = n++;
        if (i === 0 || i === 2) throw new Error('bug');
        return cold('-(v|)', { v: `s${i}` });
      };
      const out = hot('a---------------------b').pipe(
        retryLatest(fetch, { backoff, scheduler: ts, onFailure: (f) => delays.push(f.retryInMs) }),
      );
      // a: throws at 0, retries at 10 → s1 at 11. b at 22: throws, backoff starts again at 10 → s3 at 33.
      expectObservable(out).toBe('-----------x---------------------y', { x: 's1', y: 's3' });
      ts.flush();
      expect(delays).toEqual([10, 10]);
    });
  });

  it('unsubscribing cancels a pending retry', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failing = cold('-#');
      const out = hot('a').pipe(retryLatest(() => failing, { backoff, scheduler: ts }));
      expectObservable(out, '^-----!').toBe('-');
      expectSubscriptions(failing.subscriptions).toBe('^!');
    });
  });
});
