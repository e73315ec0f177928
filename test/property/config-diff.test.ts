/**
 * /status's diffs are made of the lines two configs do not share at their ends (differingLines), not
 * of the whole texts: each hunk must still say where it is in the whole configs, and applied to the
 * config before, give the config after.
 */
import { applyPatch, createTwoFilesPatch } from 'diff';
import fc from 'fast-check';
import { differingLines, unifiedDiff } from '../../src/admin/statusBook';

/** Lines from a small alphabet, so that texts share lines and runs of them, with or without a last newline. */
const text = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', 'c', '', '  server x', 'backend y'), { maxLength: 30 }), fc.boolean())
  .map(([lines, newline]) => lines.join('\n') + (newline && lines.length > 0 ? '\n' : ''));
/** A text and one made from it by a few line edits, as an apply changes a config. */
const pair = fc
  .tuple(
    text,
    fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.array(fc.constantFrom('a', 'd', '', 'server z'), { maxLength: 3 })), {
      maxLength: 3,
    }),
  )
  .map(([before, edits]) => {
    const lines = before.split('\n');
    for (const [at, remove, insert] of edits) lines.splice(at % (lines.length + 1), remove, ...insert);
    return [before, lines.join('\n')] as const;
  });

/** Each hunk's old and new lines, read from the whole texts at the line numbers its header gives. */
function checkHunks(patch: string, before: string, after: string): void {
  const old = before.split('\n');
  const now = after.split('\n');
  const lines = patch.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const h = /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@/.exec(lines[i]!);
    if (h === null) continue;
    const [oldStart, oldCount, newStart, newCount] = h.slice(1).map(Number) as [number, number, number, number];
    const body: string[] = [];
    for (let j = i + 1; j < lines.length && /^[ +\-\\]/.test(lines[j]!); j++) body.push(lines[j]!);
    const was = body.filter((l) => l[0] === ' ' || l[0] === '-').map((l) => l.slice(1));
    const is = body.filter((l) => l[0] === ' ' || l[0] === '+').map((l) => l.slice(1));
    expect(was).toEqual(old.slice(oldCount === 0 ? oldStart : oldStart - 1).slice(0, oldCount));
    expect(is).toEqual(now.slice(newCount === 0 ? newStart : newStart - 1).slice(0, newCount));
  }
}

describe('unifiedDiff of the lines two configs do not share', () => {
  test('its hunks sit where they say in the whole texts, and the patch turns the one into the other', () => {
    fc.assert(
      fc.property(pair, ([before, after]) => {
        const patch = unifiedDiff(before, after, 10_000, 1_000_000);
        if (before === after) return expect(patch).toBe('');
        checkHunks(patch, before, after);
        expect(applyPatch(before, patch)).toBe(after);
      }),
      { numRuns: 2000 },
    );
  });

  test("with nothing shared at either end, the patch is jsdiff's of the whole texts", () => {
    fc.assert(
      fc.property(pair, ([before, after]) => {
        const trimmed = differingLines(before, after, 3);
        if (before === after) return;
        if (trimmed.previous.length !== before.length || trimmed.next.length !== after.length) return;
        const whole = createTwoFilesPatch('haproxy.cfg (before)', 'haproxy.cfg (after)', before, after, '', '', {
          context: 3,
        });
        expect(unifiedDiff(before, after, 10_000, 1_000_000)).toBe(whole.slice(whole.indexOf('\n') + 1));
      }),
      { numRuns: 500 },
    );
  });

  test('one changed line in a long config: only it and its context are diffed', () => {
    const config = Array.from({ length: 20_000 }, (_, i) => `  server s${i} 10.0.0.1:${31000 + i}\n`).join('');
    const changed = config.replace('server s12345 10.0.0.1:43345\n', 'server s12345 10.0.0.1:43345 disabled\n');
    const trimmed = differingLines(config, changed, 3);
    expect(trimmed.previous.split('\n')).toHaveLength(8); // 3 + 1 + 3 lines, and the empty piece after the last newline
    expect(trimmed.skipped).toBe(12_342);
    expect(unifiedDiff(config, changed, 2000, 64 * 1024)).toMatch(/^@@ -12343,7 \+12343,7 @@$/m);
  });
});
