import { NEVER, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { Trigger, triggers } from '../../src/reconcile/triggers';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

const T: Record<string, Trigger> = {
  s: { kind: 'startup' },
  e: { kind: 'event', eventType: 'status_update_event' },
  a: { kind: 'event', eventType: 'api_post_event' },
  c: { kind: 'connected' },
  h: { kind: 'signal', signal: 'hup' },
  r: { kind: 'resync' },
};
const EV = { e: { eventType: 'status_update_event' }, a: { eventType: 'api_post_event' } };
const SIG = { h: 'hup' } as const;

describe('triggers', () => {
  it('emits startup first, then a resync after every resyncIntervalMs of silence', () => {
    const ts = newScheduler();
    ts.run(({ expectObservable }) => {
      const out = triggers({ events$: NEVER, connected$: NEVER, signals$: NEVER, resyncIntervalMs: 10, scheduler: ts });
      expectObservable(out, '^ 35ms !').toBe('s 9ms r 9ms r 9ms r', T);
    });
  });

  it('maps events, (re)connections and signals to typed triggers', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const events$ = hot('---e---a', EV);
      const connected$ = hot('-----c');
      const signals$ = hot('--------h-h', SIG);
      const out = triggers({ events$, connected$, signals$, resyncIntervalMs: 10, scheduler: ts });
      expectObservable(out, '^ 29ms !').toBe('s--e-c-ah-h 9ms r', T);
      for (const source of [events$, connected$, signals$]) {
        expectSubscriptions(source.subscriptions).toBe('^ 29ms !');
      }
    });
  });

  it('restarts the resync timer after every trigger', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable }) => {
      // Without the restart a resync would come at 10 and 20; triggers at 7 and 14 push it to 24.
      const events$ = hot('-------e------e', EV);
      const out = triggers({ events$, connected$: NEVER, signals$: NEVER, resyncIntervalMs: 10, scheduler: ts });
      expectObservable(out, '^ 35ms !').toBe('s------e------e 9ms r 9ms r', T);
    });
  });

  it('passes a source error on', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable }) => {
      const err = new Error('stream broke');
      const connected$ = hot('--#', undefined, err);
      const out = triggers({ events$: NEVER, connected$, signals$: NEVER, resyncIntervalMs: 10, scheduler: ts });
      expectObservable(out).toBe('s-#', T, err);
    });
  });
});

describe('triggers while the event stream is down', () => {
  /** Triggers with a usual resync every 10 ms and `downMs` while the stream is lost. */
  const withLosses = (
    ts: TestScheduler,
    sources: {
      lost$: Observable<unknown>;
      events$?: Observable<{ eventType: string }>;
      connected$?: Observable<unknown>;
    },
    downMs: number,
  ): Observable<Trigger> =>
    triggers({
      events$: sources.events$ ?? NEVER,
      connected$: sources.connected$ ?? NEVER,
      signals$: NEVER,
      lost$: sources.lost$,
      downResyncIntervalMs: downMs,
      resyncIntervalMs: 10,
      scheduler: ts,
    });

  it('resyncs at the shorter interval from a loss until the stream connects again, then at the usual one', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable }) => {
      // Lost at 2 (nothing emitted for it): resyncs at 6, 10, 14; connected at 16: then 10 apart.
      const lost$ = hot('--l');
      const connected$ = hot('----------------c');
      const out = withLosses(ts, { lost$, connected$ }, 4);
      expectObservable(out, '^ 40ms !').toBe('s-----r---r---r-c 9ms r 9ms r', T);
    });
  });

  it('a loss while down does not restart the timer (a stream failing at each reconnect); an event does', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable }) => {
      const lost$ = hot('-l---l-l-l');
      const events$ = hot('-------e', EV);
      const out = withLosses(ts, { lost$, events$ }, 4);
      // Lost at 1: a resync at 5 (the loss at 5 changes nothing); the event at 7 restarts it: 11, 15, 19.
      expectObservable(out, '^ 20ms !').toBe('s----r-e---r---r---r', T);
    });
  });

  it('never longer than the usual interval', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable }) => {
      const out = withLosses(ts, { lost$: hot('l') }, 50);
      expectObservable(out, '^ 25ms !').toBe('s 9ms r 9ms r', T);
    });
  });
});
