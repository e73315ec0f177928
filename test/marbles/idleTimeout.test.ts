import { catchError, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { IdleTimeoutError, idleTimeout } from '../../src/streams/idleTimeout';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('idleTimeout', () => {
  it('passes values and completion through while the source keeps talking', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('-a---b---c|').pipe(idleTimeout(5, ts))).toBe('-a---b---c|');
    });
  });

  it('errors with IdleTimeoutError when nothing arrives after subscription', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('--------a');
      expectObservable(src.pipe(idleTimeout(5, ts))).toBe('-----#', undefined, new IdleTimeoutError(5));
      expectSubscriptions(src.subscriptions).toBe('^----!');
    });
  });

  it('restarts the timer on each value', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const src = hot('-a--b--c----------');
      expectObservable(src.pipe(idleTimeout(5, ts))).toBe('-a--b--c----#', undefined, new IdleTimeoutError(5));
      expectSubscriptions(src.subscriptions).toBe('^-----------!');
    });
  });

  it('raises an IdleTimeoutError instance carrying ms', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const caught = cold('-').pipe(
        idleTimeout(7, ts),
        catchError((e: unknown) => of(e instanceof IdleTimeoutError ? `${e.name}:${e.ms}` : 'other')),
      );
      expectObservable(caught).toBe('7ms (x|)', { x: 'IdleTimeoutError:7' });
    });
  });

  it('passes a source error through unchanged', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const err = new Error('reset by peer');
      expectObservable(cold('-a-#', undefined, err).pipe(idleTimeout(5, ts))).toBe('-a-#', undefined, err);
    });
  });
});
