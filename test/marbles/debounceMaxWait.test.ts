import { TestScheduler } from 'rxjs/testing';
import { debounceMaxWait } from '../../src/streams/debounceMaxWait';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('debounceMaxWait', () => {
  it('emits a single value once the source has been quiet for quietMs', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-------|');
      expectObservable(src.pipe(debounceMaxWait(3, 10, ts))).toBe('----a----|');
      expectSubscriptions(src.subscriptions).toBe('^--------!');
    });
  });

  it('emits a burst shorter than the max wait once, with its newest value', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const src = cold('-abc------|');
      expectObservable(src.pipe(debounceMaxWait(3, 10, ts))).toBe('------c---|');
    });
  });

  it('emits each burst separately', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const src = cold('-ab-------cd------|');
      expectObservable(src.pipe(debounceMaxWait(3, 10, ts))).toBe('-----b--------d---|');
    });
  });

  it('emits once every maxWait during a continuous storm, never per event', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // A value every 2 frames: never quiet for 3, so only the max wait (9) lets values through.
      const src = cold('-a-b-c-d-e-f-g-h-i-j-k-l-m-n|');
      expectObservable(src.pipe(debounceMaxWait(3, 9, ts))).toBe('10ms e 9ms j 7ms (n|)');
    });
  });

  it('flushes the pending value when the source completes', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b|').pipe(debounceMaxWait(5, 10, ts))).toBe('----(b|)');
      expectObservable(cold('-----|').pipe(debounceMaxWait(5, 10, ts))).toBe('-----|');
    });
  });

  it('passes an error on and drops the pending value', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const err = new Error('boom');
      const src = cold('-a----b-#', undefined, err);
      expectObservable(src.pipe(debounceMaxWait(3, 10, ts))).toBe('----a---#', undefined, err);
      expectSubscriptions(src.subscriptions).toBe('^-------!');
    });
  });

  it('emits nothing after unsubscription (timers are cancelled)', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const src = hot('-a-b------');
      expectObservable(src.pipe(debounceMaxWait(3, 10, ts)), '^---!').toBe('----');
      expectSubscriptions(src.subscriptions).toBe('^---!');
    });
  });
});
