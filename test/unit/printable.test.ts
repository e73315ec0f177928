import fc from 'fast-check';
import { hasControlCharacters, printable } from '../../src/printable';

describe('printable: outside text as one line', () => {
  test('control characters escaped as JSON writes them; tabs and everything else as they are', () => {
    expect(printable('a\nb\rc\u0000d\u001be\u007ff\u0085g\u2028h\u2029i\tj é ✓')).toBe(
      'a\\nb\\rc\\u0000d\\u001be\\u007ff\\u0085g\\u2028h\\u2029i\tj é ✓',
    );
    expect(printable('/web_1.example-app:8080')).toBe('/web_1.example-app:8080');
    expect([hasControlCharacters('a\u009bb'), hasControlCharacters('a\tb')]).toEqual([true, false]);
  });

  test('invisible format characters escaped too: a byte-order mark, zero-width and bidirectional marks', () => {
    // A right-to-left override shows "left out app /evil" as another text than it is.
    expect(printable('\ufeff{"apps" \u200b\u200e\u202e/evil\u2066x\u2069 \u00ad')).toBe(
      '\\ufeff{"apps" \\u200b\\u200e\\u202e/evil\\u2066x\\u2069 \\u00ad',
    );
  });

  test('any text: never a line break or another control character, and plain text unchanged', () => {
    fc.assert(
      fc.property(fc.fullUnicodeString(), (s) => {
        const p = printable(s);
        expect(hasControlCharacters(p)).toBe(false);
        expect(p.split('\n')).toHaveLength(1);
        if (!hasControlCharacters(s)) expect(p).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});
