import fc from 'fast-check';
import { holdsSampleExpression } from '../../src/model/labels';

/** The regular expression the scan replaced: right, but it read the rest of the word again from every `%{`. */
const SAMPLE_EXPRESSION = /(?<!%)(?:%%)*%(?:\{[^}]*\})?\[/;

describe('holdsSampleExpression: a log-format word with %[...] or %{flags}[...]', () => {
  test('says what the regular expression said, for words of %, {, }, [ and text', () => {
    fc.assert(
      fc.property(fc.stringOf(fc.constantFrom('%', '{', '}', '[', 'a', 'Q'), { maxLength: 24 }), (word) => {
        expect(holdsSampleExpression(word)).toBe(SAMPLE_EXPRESSION.test(word));
      }),
      { numRuns: 20000 },
    );
  });

  test.each([
    ['%[env(X)]', true],
    ['%{+Q}[env(X)]', true],
    ['%%[text]', false],
    ['%%%[env(X)]', true],
    ['/a%{b', false],
    ['%{a}x%{b}[c]', true],
  ])('%s: %s', (word, holds) => expect(holdsSampleExpression(word)).toBe(holds));

  test("a label of 250 000 unclosed %{ is read once (the regular expression's work grew with its square)", () => {
    // Counted, not timed: the scan looks for a closing brace once for all of them.
    const word = `/${'%{'.repeat(250_000)}`;
    const indexOf = jest.spyOn(String.prototype, 'indexOf');
    let searches: number;
    try {
      expect(holdsSampleExpression(word)).toBe(false);
      searches = indexOf.mock.calls.filter(([what]) => what === '}').length;
    } finally {
      indexOf.mockRestore();
    }
    expect(searches).toBe(1);
  });
});
