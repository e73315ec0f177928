/**
 * jsonChunks (the /status body of a big cluster, made a slice at a time, as UTF-8 pieces) prints
 * what JSON.stringify prints, for any JSON value and for fields JSON leaves out (undefined, functions).
 */
import fc from 'fast-check';
import { jsonChunks, LazyItems } from '../../src/admin/slicedJson';

const pauses = { count: 0 };
const pause = (): Promise<void> => {
  pauses.count++;
  return Promise.resolve();
};

/** The pieces' text, checked against the length they state. */
async function stringifySliced(value: unknown, p: () => Promise<void>, sliceItems?: number, chunkChars?: number) {
  const { chunks, chars } = await jsonChunks(value, p, sliceItems, chunkChars);
  const text = Buffer.concat(chunks).toString('utf8');
  expect(chars).toBe(text.length);
  return text;
}

describe('jsonChunks', () => {
  test('any JSON value: the same text as JSON.stringify', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue(),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 64 }),
        async (value, sliceItems, chunkChars) => {
          expect(await stringifySliced(value, pause, sliceItems, chunkChars)).toBe(JSON.stringify(value));
        },
      ),
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

  test('a LazyItems list prints as the array of its items, each item made once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.jsonValue()), fc.integer({ min: 1, max: 5 }), async (items, sliceItems) => {
        const made: number[] = [];
        const lazy = new LazyItems(items.length, (i) => (made.push(i), items[i]));
        const text = await stringifySliced({ before: 1, services: lazy, after: [2] }, pause, sliceItems);
        expect(text).toBe(JSON.stringify({ before: 1, services: items, after: [2] }));
        expect(made).toEqual(items.map((_, i) => i));
      }),
      { numRuns: 200 },
    );
  });
});
