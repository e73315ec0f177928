/**
 * Whether HAProxy's regex engine (PCRE2, as Debian builds HAProxy) will compile a pattern an app
 * owner wrote, decided without HAProxy: a pattern it refuses fails the whole config.
 *
 * Accepted is a subset PCRE2 10.x compiles whatever its version: literals, `.`, `^`, `$`,
 * alternation; plain, non-capturing, named, atomic and lookahead groups, lookbehinds of fixed
 * length, option settings `(?i)` / `(?i:…)` (i, m, s, U, n); classes of ASCII characters, ranges and
 * POSIX names (`[[:alpha:]]`); the escapes `\d \D \w \W \s \S \h \H \v \V \R \N \X \b \B \A \z \Z \G
 * \n \r \t \f \e \cX \xhh \o{…}`, an escaped punctuation character, a quoted run `\Q…\E`, Unicode
 * properties `\p{…}`/`\P{…}` (general categories, scripts, `Any`, `L&`, PCRE2's `Xan Xps Xsp Xuc
 * Xwd`), `\K` outside lookarounds, and references to a named group defined before (`\k<name>`,
 * `\k{name}`, `(?P=name)`); the quantifiers `* + ? {n} {n,} {n,m}` (lazy or possessive). Refused,
 * with a reason: what PCRE2 refuses (nothing to repeat, ranges out of order, unclosed groups,
 * duplicate names, a lookbehind of varying length, too large, numbered back-references: HAProxy
 * compiles with PCRE2_NO_AUTO_CAPTURE, so `(a)\1` names no group), and what this check does not
 * model (`(?x)`, `(?|…)`, conditionals, callouts, verbs but the start-of-pattern options such as
 * `(*UTF)`, `\Q` inside a class). Comments `(?#…)` are skipped.
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

/** Escapes standing for one character of a set (quantifiable), and zero-width ones (not). */
const CLASS_ESCAPES = 'dDwWsShHvVR';
const ASSERTION_ESCAPES = 'bBAzZG';
const CONTROL_ESCAPES: Readonly<Record<string, number>> = { n: 10, r: 13, t: 9, f: 12 };
const PUNCTUATION = /^[!-/:-@[-`{-~]$/;
const QUANTIFIER = /^\{(\d+)(?:,(\d*))?\}|^\{,(\d+)\}/;
/** `(?i)`, `(?-i)`, `(?im-s:` …: option letters whose meaning leaves the pattern's syntax alone. */
const OPTIONS = /^\(\?[imsUn]*(?:-[imsUn]*)?[:)]/;
const NAMED = /^\(\?(?:P?<([A-Za-z_]\w{0,31})>|'([A-Za-z_]\w{0,31})')/;
const POSIX_NAMES = new Set([
  'alnum',
  'alpha',
  'ascii',
  'blank',
  'cntrl',
  'digit',
  'graph',
  'lower',
  'print',
  'punct',
  'space',
  'upper',
  'word',
  'xdigit',
]);

type Parsed = { readonly size: number; readonly end: number } | { readonly error: string };

interface Context {
  /** Group names seen so far: PCRE2 refuses a name twice. */
  readonly names: Set<string>;
  /** Lookarounds the parse is inside: PCRE2 refuses \K there. */
  lookarounds: number;
}

/** One-character escapes PCRE2 reads as a character or a set of them (quantifiable), outside a class. */
const CHARACTER_ESCAPES = 'eNX';
/**
 * `\cX` (a control character: X printable ASCII), `\xhh` (up to two hex digits: `\x{…}` is a code
 * point, refused above 0xff outside UTF mode), `\o{octal}` up to 0377.
 */
const CODED_ESCAPE = /^\\(?:c[ -~]|x(?!\{)[0-9A-Fa-f]{0,2}|o\{[0-3]?[0-7]{1,2}\})/;
/** `\p{…}`, `\P{…}` or one-letter `\pL`, the property name captured. */
const PROPERTY_ESCAPE = /^\\[pP](?:\{\^?([^}]{1,40})\}|([A-Za-z]))/;
/** PCRE2's own property names beside Unicode's. */
const PCRE_PROPERTIES: ReadonlySet<string> = new Set(['Any', 'L&', 'Xan', 'Xps', 'Xsp', 'Xuc', 'Xwd']);
/** A reference to a named group: `\k<name>`, `\k{name}`. */
const NAMED_REFERENCE = /^\\k(?:<([A-Za-z_]\w{0,31})>|\{([A-Za-z_]\w{0,31})\})/;
const PYTHON_REFERENCE = /^\(\?P=([A-Za-z_]\w{0,31})\)/;

/**
 * A Unicode general category (`L`, `Lu`, …) or script (`Latin`, `Greek`, …), as JavaScript's own
 * Unicode tables know them: PCRE2 knows the same names (10.40 added script abbreviations).
 */
function isUnicodeProperty(name: string): boolean {
  if (PCRE_PROPERTIES.has(name)) return true;
  if (!/^[A-Za-z_]+$/.test(name)) return false;
  for (const form of [/^[A-Z][a-z]?$/.test(name) ? `\\p{General_Category=${name}}` : null, `\\p{Script=${name}}`]) {
    if (form === null) continue;
    try {
      new RegExp(form, 'u');
      return true;
    } catch {
      // not that kind of property
    }
  }
  return false;
}

/**
 * PCRE2's start-of-pattern options (`(*UTF)`, `(*UCP)`, newline and limit settings): only at the very
 * start, where HAProxy's PCRE2 takes them (elsewhere they are unknown verbs).
 */
const START_OPTIONS =
  /^(?:\(\*(?:UTF8?|UCP|NO_AUTO_POSSESS|NO_DOTSTAR_ANCHOR|NO_JIT|NO_START_OPT|NOTEMPTY|NOTEMPTY_ATSTART|CR|LF|CRLF|ANYCRLF|ANY|NUL|BSR_ANYCRLF|BSR_UNICODE|LIMIT_(?:MATCH|DEPTH|HEAP|RECURSION)=\d{1,9})\))+/;

/** Why PCRE2 could refuse `pattern`, or null when it compiles. */
export function regexProblem(pattern: string): string | null {
  const start = START_OPTIONS.exec(pattern)?.[0].length ?? 0;
  const r = alternatives(pattern, start, 0, { names: new Set(), lookarounds: 0 }, false);
  if ('error' in r) return r.error;
  if (r.end < pattern.length) return 'has an unmatched )';
  return r.size > MAX_SIZE
    ? 'is too large for the regex engine (PCRE2 compiles 64 K at most; a repeated group counts each time)'
    : null;
}

/**
 * Alternatives up to an unmatched `)` or the end: their size and where they stop. `fixed`: inside a
 * lookbehind, which PCRE2 needs of fixed length: no quantifier and no group there.
 */
function alternatives(re: string, start: number, depth: number, ctx: Context, fixed: boolean): Parsed {
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
    } else if (c === '(' && PYTHON_REFERENCE.test(re.slice(i, i + 40))) {
      const [reference, name] = PYTHON_REFERENCE.exec(re.slice(i, i + 40)) as unknown as [string, string];
      if (!ctx.names.has(name)) return { error: `refers to the group ${JSON.stringify(name)} before it is defined` };
      if (fixed) return { error: 'has a back-reference inside a lookbehind (PCRE2 needs it of fixed length)' };
      i += reference.length;
      last = CHAR_SIZE;
      lastGroup = false;
      size += CHAR_SIZE;
    } else if (c === '(' && re.startsWith('(?#', i)) {
      // A comment, up to the first `)`: PCRE2 skips it (a quantifier after it repeats the item before).
      const end = re.indexOf(')', i);
      if (end < 0) return { error: 'has an unclosed (?# comment' };
      i = end + 1;
    } else if (c === '(') {
      const options = OPTIONS.exec(re.slice(i, i + 16))?.[0];
      if (options?.endsWith(')') === true) {
        // An option setting alone: it changes what follows, matches nothing.
        i += options.length;
        last = null;
        continue;
      }
      const named = NAMED.exec(re.slice(i, i + 40));
      let open: string;
      let assertion = false;
      let lookbehind = false;
      if (named !== null) {
        const name = named[1] ?? named[2]!;
        if (ctx.names.has(name)) return { error: `names two groups ${JSON.stringify(name)}` };
        ctx.names.add(name);
        open = named[0];
      } else if (options !== undefined) {
        open = options;
      } else {
        open = ['(?:', '(?>', '(?=', '(?!', '(?<=', '(?<!'].find((k) => re.startsWith(k, i)) ?? '(';
        if (open === '(' && re[i + 1] === '?')
          return {
            error: `has the group syntax ${JSON.stringify(re.slice(i, i + 4))}, which this check does not model`,
          };
        assertion = open === '(?=' || open === '(?!' || open === '(?<=' || open === '(?<!';
        lookbehind = open.startsWith('(?<');
      }
      if (fixed && !lookbehind && !assertion)
        return { error: 'has a group inside a lookbehind (PCRE2 needs it of fixed length)' };
      if (assertion) ctx.lookarounds++;
      const inner = alternatives(re, i + open.length, depth + 1, ctx, fixed || lookbehind);
      if (assertion) ctx.lookarounds--;
      if ('error' in inner) return inner;
      if (re[inner.end] !== ')') return { error: 'has an unclosed (' };
      i = inner.end + 1;
      // An assertion is zero-width: PCRE2 and other engines differ on repeating one.
      last = assertion ? null : inner.size + GROUP_SIZE;
      lastGroup = true;
      size += inner.size + GROUP_SIZE;
    } else if (c === '[') {
      const end = classEnd(re, i);
      if (typeof end === 'string') return { error: end };
      i = end;
      last = CLASS_SIZE;
      lastGroup = false;
      size += CLASS_SIZE;
    } else if (c === '\\' && re[i + 1] === 'Q') {
      // Quoted: literal up to \E (or the end); a quantifier after it repeats its last character.
      const end = re.indexOf('\\E', i + 2);
      const text = re.slice(i + 2, end < 0 ? re.length : end);
      i = end < 0 ? re.length : end + 2;
      if (text.length > 0) last = CHAR_SIZE;
      lastGroup = false;
      size += CHAR_SIZE * text.length;
    } else if (c === '\\' && (re[i + 1] === 'p' || re[i + 1] === 'P')) {
      const m = PROPERTY_ESCAPE.exec(re.slice(i, i + 48));
      const name = m?.[1] ?? m?.[2];
      if (m === null || name === undefined || !isUnicodeProperty(name))
        return { error: `has the Unicode property ${JSON.stringify(re.slice(i, i + 16))}, which PCRE2 does not know` };
      i += m[0].length;
      last = CHAR_SIZE;
      lastGroup = false;
      size += CLASS_SIZE;
    } else if (c === '\\' && re[i + 1] === 'k') {
      const m = NAMED_REFERENCE.exec(re.slice(i, i + 40));
      const name = m?.[1] ?? m?.[2];
      if (m === null || name === undefined) return { error: 'has \\k without a group name in <> or {}' };
      if (!ctx.names.has(name)) return { error: `refers to the group ${JSON.stringify(name)} before it is defined` };
      if (fixed) return { error: 'has a back-reference inside a lookbehind (PCRE2 needs it of fixed length)' };
      i += m[0].length;
      last = CHAR_SIZE;
      lastGroup = false;
      size += CHAR_SIZE;
    } else if (c === '\\' && CODED_ESCAPE.test(re.slice(i, i + 12))) {
      i += CODED_ESCAPE.exec(re.slice(i, i + 12))![0].length;
      last = CHAR_SIZE;
      lastGroup = false;
      size += CHAR_SIZE;
    } else if (c === '\\') {
      const e = re[i + 1];
      if (e === undefined) return { error: 'ends with a backslash' };
      if (e === 'K') {
        if (ctx.lookarounds > 0) return { error: 'has \\K inside a lookaround (PCRE2 refuses it there)' };
        last = null;
      } else if (e === 'X' && fixed)
        return { error: 'has \\X inside a lookbehind (it matches one or more characters)' };
      else if (e === 'N' && re[i + 2] === '{')
        return { error: 'has \\N{ (PCRE2 reads \\N{name} or \\N{U+…}, and neither outside UTF mode)' };
      else if (CHARACTER_ESCAPES.includes(e)) last = CHAR_SIZE;
      else if (ASSERTION_ESCAPES.includes(e)) last = null;
      else if (e === 'R' && fixed) return { error: 'has \\R inside a lookbehind (it matches one or two characters)' };
      else if (CLASS_ESCAPES.includes(e) || e in CONTROL_ESCAPES || PUNCTUATION.test(e)) last = CHAR_SIZE;
      else
        return {
          error: `has the escape \\${e} (only \\d \\D \\w \\W \\s \\S \\h \\H \\v \\V \\R \\N \\X \\b \\B \\A \\z \\Z \\G \\K \\n \\r \\t \\f \\e \\cX \\xhh \\o{…} \\p{…} \\P{…} \\k<name> \\Q…\\E and \\ before punctuation)`,
        };
      lastGroup = false;
      size += CHAR_SIZE;
      i += 2;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && QUANTIFIER.test(re.slice(i)))) {
      if (last === null) return { error: `has nothing for ${c === '{' ? 'a {} quantifier' : c} to repeat` };
      if (fixed) return { error: 'has a quantifier inside a lookbehind (PCRE2 needs it of fixed length)' };
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
    if (size > MAX_SIZE)
      return {
        error: 'is too large for the regex engine (PCRE2 compiles 64 K at most; a repeated group counts each time)',
      };
  }
  return { size, end: i };
}

/**
 * Whether the `[` at `at` starts PCRE2's POSIX syntax `[:name:]` (or `[.….]`, `[=…=]`): its
 * terminator and `]` come before any other `]` (PCRE2's check_posix_syntax).
 */
function posixAt(re: string, at: number): boolean {
  const terminator = re[at + 1];
  if (terminator !== ':' && terminator !== '.' && terminator !== '=') return false;
  for (let p = at + 2; p < re.length; p++) {
    if (re[p] === '\\' && (re[p + 1] === ']' || re[p + 1] === '\\')) p++;
    else if ((re[p] === '[' && re[p + 1] === terminator) || re[p] === ']') return false;
    else if (re[p] === terminator && re[p + 1] === ']') return true;
  }
  return false;
}

/** Where the class opened at `start` ends (after its `]`), or why it is refused. */
function classEnd(re: string, start: number): number | string {
  if (posixAt(re, start)) return 'has a POSIX class outside a class (write [[:name:]])';
  let j = start + 1;
  if (re[j] === '^') j++;
  /** The class member at j: its character code (null for \d, a POSIX class and the like) and where it ends. */
  const member = (at: number, first: boolean): { readonly code: number | null; readonly next: number } | string => {
    const c = re[at];
    if (c === undefined) return 'has an unclosed [';
    if (c === ']' && first) return { code: c.charCodeAt(0), next: at + 1 }; // `[]a]`: a literal ]
    if (c === '[') {
      if (!posixAt(re, at)) return { code: c.charCodeAt(0), next: at + 1 };
      const close = re.indexOf(`${re[at + 1]}]`, at + 2);
      const name = re.slice(at + 2, close).replace(/^\^/, '');
      if (re[at + 1] !== ':') return 'has a POSIX collating element ([.….] or [=…=]), which PCRE2 does not support';
      if (!POSIX_NAMES.has(name)) return `has the unknown POSIX class [:${name}:]`;
      return { code: null, next: close + 2 };
    }
    if (c.charCodeAt(0) > 0x7e) return 'has a character outside ASCII inside a class';
    if (c !== '\\') return { code: c.charCodeAt(0), next: at + 1 };
    const e = re[at + 1];
    if (e === undefined) return 'has an unclosed [';
    if (CLASS_ESCAPES.includes(e) && e !== 'R') return { code: null, next: at + 2 };
    if (e in CONTROL_ESCAPES) return { code: CONTROL_ESCAPES[e]!, next: at + 2 };
    if (PUNCTUATION.test(e)) return { code: e.charCodeAt(0), next: at + 2 };
    return `has the escape \\${e} inside a class`;
  };
  for (let first = true; ; first = false) {
    if (re[j] === ']' && !first) return j + 1;
    const from = member(j, first);
    if (typeof from === 'string') return from;
    j = from.next;
    if (re[j] !== '-' || re[j + 1] === ']' || re[j + 1] === undefined) continue;
    const to = member(j + 1, false);
    if (typeof to === 'string') return to;
    if (from.code === null || to.code === null) return 'has a range that starts or ends at a class escape';
    if (to.code < from.code) return 'has a range out of order in a class';
    j = to.next;
  }
}
