/**
 * stringifySliced (the /status body of a big cluster, made a slice at a time) prints what
 * JSON.stringify prints, for any JSON value and for fields JSON leaves out (undefined, functions).
 */
import fc from 'fast-check';
import { stringifySliced } from '../../src/admin/slicedJson';

const pauses = { count: 0 };
const pause = (): Promise<void> => {
  pauses.count++;
  return Promise.resolve();
};

describe('stringifySliced', () => {
  test('any JSON value: the same text as JSON.stringify', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.integer({ min: 1, max: 5 }), async (value, sliceItems) => {
        expect(await stringifySliced(value, pause, sliceItems)).toBe(JSON.stringify(value));
      }),
      { numRuns: 300 },
    );
  });

  test('values JSON cannot hold: left out of objects, null in arrays, as JSON.stringify does', async () => {
    const value = {
      a: undefined,
      f: () => 1,
      list: [undefined, () => 1, Symbol('s'), NaN, -0, Infinity, new Date(0), { toJSON: () => 'mine' }],
      nested: { b: undefined, c: [1, { d: undefined }] },
      map: new Map([[1, 2]]),
    };
    expect(await stringifySliced(value, pause)).toBe(JSON.stringify(value));
  });

  test("long arrays pause after every slice of items, the object's arrays counted together", async () => {
    pauses.count = 0;
    const value = {
      services: Array.from({ length: 1000 }, (_, i) => ({ i, servers: [i, i + 1] })),
      haproxy: { backends: Array.from({ length: 500 }, (_, i) => ({ i })) },
    };
    expect(await stringifySliced(value, pause, 100)).toBe(JSON.stringify(value));
    expect(pauses.count).toBe(15); // 1 500 items, 100 a slice
  });
});
