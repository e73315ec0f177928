import { TestScheduler } from 'rxjs/testing';
import { batchPerTurn } from '../../src/streams/batchPerTurn';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('batchPerTurn', () => {
  it('emits the values of one turn together, at the end of that turn', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable }) => {
      const src = hot('-(abc)--d---(ef)-|');
      expectObservable(src.pipe(batchPerTurn(ts))).toBe('-x------y---z----|', {
        x: ['a', 'b', 'c'],
        y: ['d'],
        z: ['e', 'f'],
      });
    });
  });

  it('emits nothing while nothing comes', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable }) => {
      expectObservable(hot('----------').pipe(batchPerTurn(ts))).toBe('----------');
    });
  });

  it('flushes the batch under way before it completes or errors', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('-(ab|)').pipe(batchPerTurn(ts))).toBe('-(x|)', { x: ['a', 'b'] });
      expectObservable(cold('-(ab#)', undefined, 'boom').pipe(batchPerTurn(ts))).toBe(
        '-(x#)',
        { x: ['a', 'b'] },
        'boom',
      );
    });
  });

  it('drops the batch under way when unsubscribed, and stops its flush', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const src = hot('-a-(bc)-d');
      expectObservable(src.pipe(batchPerTurn(ts)), '^--!').toBe('-x-', { x: ['a'] });
      expectSubscriptions(src.subscriptions).toBe('^--!');
    });
  });
});
