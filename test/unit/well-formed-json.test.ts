import fc from 'fast-check';
import { jsonChunks } from '../../src/admin/slicedJson';
import { wellFormedJson } from '../../src/wellFormedJson';

/** String.prototype.toWellFormed (ES2024, past this project's TypeScript lib). */
const wellFormed = (text: string): string =>
  text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

describe('wellFormedJson', () => {
  test('any text: its JSON made well-formed reads back as the text with each lone surrogate U+FFFD', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), (odd, plain) => {
        // Text that spells an escape (a backslash, then u) is text, not a surrogate.
        const text = `${odd}\\ud800${plain}\\\\udc00${odd}`;
        const json = wellFormedJson(JSON.stringify({ text }));
        expect(json).not.toMatch(/(?<!\\)(?:\\\\)*\\ud[89a-f]/i);
        expect((JSON.parse(json) as { text: string }).text).toBe(wellFormed(text));
      }),
      { numRuns: 2000 },
    );
  });

  test('/status made in slices carries no lone surrogate escape', async () => {
    const status = { leftOut: [{ appId: '/id-sur x\ud800y', message: 'pair \ud83d\ude00 kept' }], note: '\udfff' };
    const { chunks } = await jsonChunks(status, () => Promise.resolve());
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text).not.toContain('\\ud');
    expect(JSON.parse(text)).toEqual({
      leftOut: [{ appId: '/id-sur x\ufffdy', message: 'pair \ud83d\ude00 kept' }],
      note: '\ufffd',
    });
  });
});
