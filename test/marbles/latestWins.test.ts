import { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { FetchResult, latestWins } from '../../src/streams/latestWins';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const ok = <R>(value: R): FetchResult<R> => ({ ok: true, value });

describe('latestWins', () => {
  it('fetches once per trigger and wraps results', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const triggers$ = hot('-a-------b', { a: 1, b: 2 });
      const out = triggers$.pipe(latestWins((n: number) => cold('--(x|)', { x: n * 10 })));
      expectObservable(out).toBe('---A-------B', { A: ok(10), B: ok(20) });
    });
  });

  it('cancels an in-flight fetch when a newer trigger arrives', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const fetches: Record<string, ReturnType<typeof cold<string>>> = {
        a: cold('----(A|)'),
        b: cold('----(B|)'),
      };
      const out = hot('-a-b').pipe(latestWins((t: string) => fetches[t]!));
      expectObservable(out).toBe('-------B', { B: ok('B') });
      expectSubscriptions(fetches.a!.subscriptions).toBe('-^-!');
      expectSubscriptions(fetches.b!.subscriptions).toBe('---^---!');
    });
  });

  it('surfaces a failed fetch as a value and keeps serving later triggers', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const err = new Error('marathon 503');
      const triggers$ = hot('-a-----b--c');
      const fetch = (t: string): Observable<string> => {
        if (t === 'a') return cold('--#', undefined, err);
        if (t === 'c') throw new Error('sync throw');
        return cold('-(v|)', { v: 'apps' });
      };
      expectObservable(triggers$.pipe(latestWins(fetch))).toBe('---E----V-T', {
        E: { ok: false, error: err },
        V: ok('apps'),
        T: { ok: false, error: new Error('sync throw') },
      });
      expectSubscriptions(triggers$.subscriptions).toBe('^');
    });
  });

  it('passes a trigger-stream error on', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const out = cold('-a-#').pipe(latestWins(() => cold('-----x')));
      expectObservable(out).toBe('---#');
    });
  });
});
