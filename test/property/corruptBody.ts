import fc from 'fast-check';

/**
 * `{"apps": [...]}` of some generated apps as bytes, and the same bytes corrupted: cut short, a
 * byte inserted (JSON punctuation, a letter, a digit, or a stray UTF-8 lead byte) or one deleted.
 * Corrupted as bytes, so a cut may also split a UTF-8 sequence (decoded as U+FFFD by every reader).
 */
export function corruptBody(
  apps: fc.Arbitrary<readonly unknown[]>,
): fc.Arbitrary<{ readonly good: Buffer; readonly bad: Buffer }> {
  return fc
    .tuple(
      apps,
      fc.nat(),
      fc.constantFrom('truncate', 'insert', 'delete'),
      fc.constantFrom(...'"\\{}[],: x1'.split('').map((c) => c.charCodeAt(0)), 0xc3, 0xff),
    )
    .map(([list, at, how, byte]) => {
      const good = Buffer.from(JSON.stringify({ apps: list }), 'utf8');
      const i = at % good.length;
      const bad = Buffer.concat(
        how === 'truncate'
          ? [good.subarray(0, i)]
          : how === 'insert'
            ? [good.subarray(0, i), Buffer.from([byte]), good.subarray(i)]
            : [good.subarray(0, i), good.subarray(i + 1)],
      );
      return { good, bad };
    });
}
