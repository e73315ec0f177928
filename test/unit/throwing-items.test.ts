import { throwingItems } from '../../src/reconcile/throwingItems';

describe('throwingItems', () => {
  const counting = (bad: (n: number) => boolean) => {
    let calls = 0;
    const throws = (xs: readonly number[]): boolean => (calls++, xs.some(bad));
    return { throws, calls: () => calls };
  };
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

  test('finds every item that throws on its own, in O(k·log n) calls', () => {
    const c = counting((n) => n === 17 || n === 4000 || n === 4001);
    expect(throwingItems(range(5000), c.throws)).toEqual([17, 4000, 4001]);
    expect(c.calls()).toBeLessThanOrEqual(1 + 3 * 2 * Math.ceil(Math.log2(5000)));
  });

  test('null when nothing throws, or only a combination does', () => {
    expect(throwingItems(range(10), () => false)).toBeNull();
    expect(throwingItems([], () => true)).toBeNull();
    expect(throwingItems(range(8), (xs) => xs.includes(1) && xs.includes(6))).toBeNull();
  });
});
