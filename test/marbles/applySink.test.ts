import { Observable, from, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ApplyOutcome, applySink } from '../../src/streams/applySink';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const backoff = { initialMs: 5, maxMs: 100, factor: 2, jitter: () => 1 };
const okFor = (model: string): ApplyOutcome<string, string> => ({ model, ok: true, result: `applied ${model}` });
const failFor = (model: string, retryInMs: number, error: unknown = 'reload failed'): ApplyOutcome<string, string> => ({
  model,
  ok: false,
  error,
  retryInMs,
});

type Cold = Parameters<Parameters<TestScheduler['run']>[0]>[0]['cold'];

/** An apply that records each model and fails model `a` with `error` (after 2 frames); others apply after 2. */
function failingA(cold: Cold, error: string): { readonly applied: string[]; apply: (m: string) => Observable<string> } {
  const applied: string[] = [];
  const apply = (m: string): Observable<string> => {
    applied.push(m);
    return m === 'a' ? cold('--#', undefined, error) : cold('--(r|)', { r: `applied ${m}` });
  };
  return { applied, apply };
}

describe('applySink', () => {
  it('applies one at a time and, while busy, keeps only the newest pending model', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const applied: string[] = [];
      const apply = (m: string): Observable<string> => {
        applied.push(m);
        return cold('---(r|)', { r: `applied ${m}` });
      };
      const models = hot('-abc-----d');
      expectObservable(models.pipe(applySink({ apply, backoff, scheduler: ts }))).toBe('----a--c----d', {
        a: okFor('a'),
        c: okFor('c'),
        d: okFor('d'),
      });
      ts.flush();
      expect(applied).toEqual(['a', 'c', 'd']); // b was superseded while a ran
    });
  });

  it('retries a failed apply after an exponential backoff that resets on success', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const script = ['fail', 'fail', 'ok', 'fail', 'ok'];
      const applied: string[] = [];
      const apply = (m: string): Observable<string> => {
        applied.push(m);
        return script.shift() === 'ok'
          ? cold('--(r|)', { r: `applied ${m}` })
          : cold('--#', undefined, 'reload failed');
      };
      const models = hot('-a 23ms b');
      // a fails at 3 (wait 5), 10 (wait 10), succeeds at 22; b fails at 27 with the reset wait 5, ok at 34
      expectObservable(models.pipe(applySink({ apply, backoff, scheduler: ts }))).toBe(
        '---x------y 11ms A----z------B',
        { x: failFor('a', 5), y: failFor('a', 10), A: okFor('a'), z: failFor('b', 5), B: okFor('b') },
      );
      ts.flush();
      expect(applied).toEqual(['a', 'a', 'a', 'b', 'b']);
    });
  });

  it('retries with a newer model that arrived during the backoff, not before it ends', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const { applied, apply } = failingA(cold, 'bad config');
      const models = hot('-a-bc');
      // a fails at 3 -> retry at 8 with the newest model c (b dropped), ok at 10
      expectObservable(models.pipe(applySink({ apply, backoff, scheduler: ts }))).toBe('---x------C', {
        x: failFor('a', 5, 'bad config'),
        C: okFor('c'),
      });
      ts.flush();
      expect(applied).toEqual(['a', 'c']);
    });
  });

  it('waits no longer than maxRetryInMs says at each failure (nothing serves: HAProxy not running)', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      let serving = true;
      const applied: string[] = [];
      const apply = (m: string): Observable<string> => {
        applied.push(m);
        return applied.length < 5 ? cold('--#', undefined, 'no haproxy') : cold('--(r|)', { r: `applied ${m}` });
      };
      const maxRetryInMs = (): number | undefined => (serving ? undefined : 8);
      const models = hot('-a');
      // backoff 5, 10, then capped at 8 once nothing serves (from 15): 3 +5 → 10 +10 → 22 +8 → 32 +8 → ok at 42
      ts.schedule(() => (serving = false), 15);
      expectObservable(models.pipe(applySink({ apply, backoff, scheduler: ts, maxRetryInMs }))).toBe(
        '---w------x 11ms y 9ms z 9ms A',
        {
          w: failFor('a', 5, 'no haproxy'),
          x: failFor('a', 10, 'no haproxy'),
          y: failFor('a', 8, 'no haproxy'),
          z: failFor('a', 8, 'no haproxy'),
          A: okFor('a'),
        },
      );
      ts.flush();
      expect(applied).toEqual(['a', 'a', 'a', 'a', 'a']);
    });
  });

  it('runs urgent work at once when it arrives during a backoff (HAProxy restarted after a crash)', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const { applied, apply } = failingA(cold, 'disk full');
      const models = hot('-a--bU');
      // a fails at 3; b waits for the retry at 8; U (urgent) at 5 runs at once, ok at 7
      const urgent = (m: string): boolean => m === 'U';
      expectObservable(models.pipe(applySink({ apply, backoff, scheduler: ts, urgent }))).toBe('---x---U', {
        x: failFor('a', 5, 'disk full'),
        U: okFor('U'),
      });
      ts.flush();
      expect(applied).toEqual(['a', 'U']);
    });
  });

  it('runs beside work at once during a backoff, still retries the failed model when the wait ends, and keeps the backoff', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const { applied, apply } = failingA(cold, 'haproxy -c failed');
      const models = hot('-a--fg');
      // a fails at 3 (retry at 8); f (task churn at runtime) at 4 runs at once, ok at 6; g waits for it
      // and runs at 6, ok at 8; a is retried at 8 and fails at 10 with the next backoff (10, not 5).
      const beside = (m: string): boolean => m === 'f' || m === 'g';
      expectObservable(models.pipe(applySink({ apply, backoff, scheduler: ts, beside })), '^-----------!').toBe(
        '---x--f-g-y',
        {
          x: failFor('a', 5, 'haproxy -c failed'),
          f: okFor('f'),
          g: okFor('g'),
          y: failFor('a', 10, 'haproxy -c failed'),
        },
      );
      ts.flush();
      expect(applied).toEqual(['a', 'f', 'g', 'a']);
    });
  });

  it('beside work that came while the failing apply ran runs during its backoff, before the retry', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const { applied, apply } = failingA(cold, 'haproxy -c failed');
      const models = hot('-af');
      const beside = (m: string): boolean => m === 'f';
      // a fails at 3 (retry at 8); f came at 2, while a ran: it runs at 3, ok at 5; a fails again at 10.
      expectObservable(models.pipe(applySink({ apply, backoff, scheduler: ts, beside })), '^----------!').toBe(
        '---x-f----y',
        { x: failFor('a', 5, 'haproxy -c failed'), f: okFor('f'), y: failFor('a', 10, 'haproxy -c failed') },
      );
      ts.flush();
      expect(applied).toEqual(['a', 'f', 'a']);
    });
  });

  // Found by an attack: a snapshot that came while a failing apply ran took the place of the task
  // churn waiting there, failed in turn (haproxy -c kept timing out), and a killed task stayed served.
  it('beside work displaced by a newer model while a failing apply runs still runs during the backoff', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const applied: string[] = [];
      const apply = (m: string): Observable<string> => {
        applied.push(m);
        return m === 'f' ? cold('--(r|)', { r: `applied ${m}` }) : cold('----#', undefined, 'haproxy -c timed out');
      };
      const models = hot('-afb');
      const beside = (m: string): boolean => m === 'f';
      // a fails at 5 (retry at 10); f came at 2 and b at 3, while a ran: f runs at 5, ok at 7; the
      // newest, b, is tried at 10 and fails at 14.
      expectObservable(models.pipe(applySink({ apply, backoff, scheduler: ts, beside })), '^--------------!').toBe(
        '-----x-f------y',
        { x: failFor('a', 5, 'haproxy -c timed out'), f: okFor('f'), y: failFor('b', 10, 'haproxy -c timed out') },
      );
      ts.flush();
      expect(applied).toEqual(['a', 'f', 'b']);
    });
  });

  it('beside work displaced by a newer model is dropped when the apply running then succeeds: the newer one covers it', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const applied: string[] = [];
      const apply = (m: string): Observable<string> => {
        applied.push(m);
        return cold('----(r|)', { r: `applied ${m}` });
      };
      const beside = (m: string): boolean => m === 'f';
      expectObservable(hot('-afb').pipe(applySink({ apply, backoff, scheduler: ts, beside })), '^---------!').toBe(
        '-----a---b',
        { a: okFor('a'), b: okFor('b') },
      );
      ts.flush();
      expect(applied).toEqual(['a', 'b']);
    });
  });

  it('treats a result rejected by isSuccess as a failure carrying that result', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      let n = 0;
      const apply = (): Observable<string> => cold('-(r|)', { r: n++ === 0 ? 'health gate failed' : 'ok' });
      const out = hot('-a').pipe(applySink({ apply, isSuccess: (r) => r === 'ok', backoff, scheduler: ts }));
      expectObservable(out).toBe('--x-----A', {
        x: failFor('a', 5, 'health gate failed'),
        A: { model: 'a', ok: true, result: 'ok' },
      });
    });
  });

  it('completes after the source completes and the newest model is applied', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const apply = (m: string): Observable<string> => cold('---(r|)', { r: `applied ${m}` });
      expectObservable(cold('ab|').pipe(applySink({ apply, backoff, scheduler: ts }))).toBe('---a--(b|)', {
        a: okFor('a'),
        b: okFor('b'),
      });
      expectObservable(cold('--|').pipe(applySink({ apply, backoff, scheduler: ts }))).toBe('--|');
    });
  });

  it('passes a source error on at once and cancels the running apply', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const running = cold('-----(r|)', { r: 'applied a' });
      const out = hot('-a-#').pipe(applySink({ apply: () => running, backoff, scheduler: ts }));
      expectObservable(out).toBe('---#');
      expectSubscriptions(running.subscriptions).toBe('-^-!');
    });
  });

  it('copes with synchronous applies and sources (no re-entrancy loss)', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const syncOut = from(['a', 'b', 'c']).pipe(
        applySink({ apply: (m: string) => of(`applied ${m}`), backoff, scheduler: ts }),
      );
      expectObservable(syncOut).toBe('(abc|)', { a: okFor('a'), b: okFor('b'), c: okFor('c') });
      const slowOut = from(['a', 'b', 'c']).pipe(
        applySink({ apply: (m: string) => cold('-(r|)', { r: `applied ${m}` }), backoff, scheduler: ts }),
      );
      expectObservable(slowOut).toBe('-a(c|)', { a: okFor('a'), c: okFor('c') });
    });
  });

  it('treats an apply that throws synchronously or completes empty as a failure', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const boom = new Error('cannot write config');
      const apply = (m: string): Observable<string> => {
        if (m === 'a') throw boom;
        return cold('-|');
      };
      const out = hot('-a--b').pipe(applySink({ apply, backoff, scheduler: ts }));
      // a throws at 1 (retry at 6, none newer... b arrives at 4 so retry takes b), b completes empty at 7
      expectObservable(out, '^ 10ms !').toBe('-x-----y', {
        x: failFor('a', 5, boom),
        y: failFor('b', 10, new Error('apply completed without a result')),
      });
    });
  });
});
