/**
 * Whether HAProxy's regex engine (PCRE2, as Debian builds HAProxy) will compile a pattern an app
 * owner wrote, decided without HAProxy: a pattern it refuses fails the whole config.
 *
 * Accepted is a subset both PCRE2 10.x and any later version compile: literals, `.`, `^`, `$`,
 * alternation, plain, non-capturing and lookahead groups, classes of ASCII characters and ranges,
 * the escapes `\d \D \w \W \s \S \b \B \n \r \t \f` and an escaped punctuation character,
 * and the quantifiers `* + ? {n} {n,} {n,m}` (lazy or possessive). Refused, with a reason: what
 * PCRE2 refuses (nothing to repeat, ranges out of order, unclosed groups, too large), and what it
 * reads differently from other engines (back-references, lookbehind, POSIX classes, `[]…]`).
 */

/** PCRE2's largest count in `{n,m}`. */
const MAX_COUNT = 65535;
/** PCRE2's default limit on group nesting is 250. */
const MAX_DEPTH = 200;
/**
 * An estimate of PCRE2's compiled size, in code units: a group repeated with a count is copied that
 * many times, and PCRE2 refuses a pattern over 64 K (link size 2). Kept well under it.
 */
const MAX_SIZE = 30000;
/** Code units an item takes, roughly: a class is a 32-byte bitmap. */
const CHAR_SIZE = 2;
const CLASS_SIZE = 34;
const GROUP_SIZE = 6;
const QUANTIFIER_SIZE = 4;

const CLASS_ESCAPES = 'dDwWsS';
const CONTROL_ESCAPES: Readonly<Record<string, number>> = { n: 10, r: 13, t: 9, f: 12 };
const PUNCTUATION = /^[!-/:-@[-`{-~]$/;
const QUANTIFIER = /^\{(\d+)(?:,(\d*))?\}|^\{,(\d+)\}/;

type Parsed = { readonly size: number; readonly end: number } | { readonly error: string };

/** Why PCRE2 could refuse `pattern`, or null when it compiles. */
export function regexProblem(pattern: string): string | null {
  const r = alternatives(pattern, 0, 0);
  if ('error' in r) return r.error;
  if (r.end < pattern.length) return 'has an unmatched )';
  return r.size > MAX_SIZE ? 'is too large for the regex engine (a group repeated too many times)' : null;
}

/** Alternatives up to an unmatched `)` or the end: their size and where they stop. */
function alternatives(re: string, start: number, depth: number): Parsed {
  if (depth > MAX_DEPTH) return { error: `nests groups deeper than ${MAX_DEPTH}` };
  let size = 0;
  let i = start;
  // The size of the last item while it may take a quantifier (null after an assertion or a
  // quantifier), and whether it is a group: a repeated group is copied, a repeated character is not.
  let last: number | null = null;
  let lastGroup = false;
  while (i < re.length) {
    const c = re[i]!;
    if (c === ')') break;
    if (c === '|' || c === '^' || c === '$') {
      last = null;
      size += CHAR_SIZE;
      i++;
    } else if (c === '(') {
      const kind = re.startsWith('(?', i) ? re.slice(i, i + 3) : '(';
      if (kind !== '(' && kind !== '(?:' && kind !== '(?=' && kind !== '(?!')
        return {
          error: `has the group syntax ${JSON.stringify(re.slice(i, i + 4))} (only (…), (?:…), (?=…) and (?!…))`,
        };
      const inner = alternatives(re, i + kind.length, depth + 1);
      if ('error' in inner) return inner;
      if (re[inner.end] !== ')') return { error: 'has an unclosed (' };
      i = inner.end + 1;
      // A lookahead is an assertion: PCRE2 and other engines differ on repeating one.
      last = kind === '(?=' || kind === '(?!' ? null : inner.size + GROUP_SIZE;
      lastGroup = true;
      size += inner.size + GROUP_SIZE;
    } else if (c === '[') {
      const end = classEnd(re, i);
      if (typeof end === 'string') return { error: end };
      i = end;
      last = CLASS_SIZE;
      lastGroup = false;
      size += CLASS_SIZE;
    } else if (c === '\\') {
      const e = re[i + 1];
      if (e === undefined) return { error: 'ends with a backslash' };
      if (e === 'b' || e === 'B') last = null;
      else if (CLASS_ESCAPES.includes(e) || e in CONTROL_ESCAPES || PUNCTUATION.test(e)) last = CHAR_SIZE;
      else
        return {
          error: `has the escape \\${e} (only \\d \\D \\w \\W \\s \\S \\b \\B \\n \\r \\t \\f and \\ before punctuation)`,
        };
      lastGroup = false;
      size += CHAR_SIZE;
      i += 2;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && QUANTIFIER.test(re.slice(i)))) {
      if (last === null) return { error: `has nothing for ${c === '{' ? 'a {} quantifier' : c} to repeat` };
      let times = 1;
      if (c === '{') {
        const m = QUANTIFIER.exec(re.slice(i))!;
        const min = m[1] === undefined ? 0 : Number(m[1]);
        const max = m[3] !== undefined ? Number(m[3]) : m[2] === undefined ? min : m[2] === '' ? min + 1 : Number(m[2]);
        if (min > MAX_COUNT || max > MAX_COUNT) return { error: `has a count above ${MAX_COUNT} in a {} quantifier` };
        if (max < min) return { error: 'has the numbers out of order in a {} quantifier' };
        times = Math.max(min, max, 1);
        i += m[0].length;
      } else {
        i++;
      }
      if (re[i] === '?' || re[i] === '+') i++;
      // A repeated group is copied: count it that many times (its one copy is in `size` already).
      if (lastGroup) size += last * (times - 1);
      size += QUANTIFIER_SIZE;
      last = null;
    } else {
      // A literal (`.`, `]`, `}` and a `{` that starts no quantifier included).
      last = CHAR_SIZE;
      lastGroup = false;
      size += CHAR_SIZE;
      i++;
    }
    if (size > MAX_SIZE) return { error: 'is too large for the regex engine (a group repeated too many times)' };
  }
  return { size, end: i };
}

/** Where the class opened at `start` ends (after its `]`), or why it is refused. */
function classEnd(re: string, start: number): number | string {
  let j = start + 1;
  if (re[j] === '^') j++;
  if (re[j] === ']') return 'has a class that starts with ] (write \\])';
  // PCRE2 reads [:…:], [.….] and [=…=] as POSIX classes, refused outside another class.
  if (re[j] === ':' || re[j] === '.' || re[j] === '=')
    return `has a class that starts with ${re[j]} (write \\${re[j]})`;
  /** The class member at j: its character code (null for \d and the like) and where it ends. */
  const member = (at: number): { readonly code: number | null; readonly next: number } | string => {
    const c = re[at];
    if (c === undefined) return 'has an unclosed [';
    if (c === '[') return 'has [ inside a class (write \\[)';
    if (c.charCodeAt(0) > 0x7e) return 'has a character outside ASCII inside a class';
    if (c !== '\\') return { code: c.charCodeAt(0), next: at + 1 };
    const e = re[at + 1];
    if (e === undefined) return 'has an unclosed [';
    if (CLASS_ESCAPES.includes(e)) return { code: null, next: at + 2 };
    if (e in CONTROL_ESCAPES) return { code: CONTROL_ESCAPES[e]!, next: at + 2 };
    if (PUNCTUATION.test(e)) return { code: e.charCodeAt(0), next: at + 2 };
    return `has the escape \\${e} inside a class`;
  };
  for (;;) {
    if (re[j] === ']') return j + 1;
    const from = member(j);
    if (typeof from === 'string') return from;
    j = from.next;
    if (re[j] !== '-' || re[j + 1] === ']' || re[j + 1] === undefined) continue;
    const to = member(j + 1);
    if (typeof to === 'string') return to;
    if (from.code === null || to.code === null) return 'has a range that starts or ends at a class escape';
    if (to.code < from.code) return 'has a range out of order in a class';
    j = to.next;
  }
}
