/**
 * HAProxy 2.1 removed the regex header filters (`reqadd`, `rspadd`, `reqrep`, `reqdel`,
 * `reqdeny`, … their case-insensitive `i` forms, and `block`). marathon-lb's HSTS, proxy-path and
 * reverse-proxy templates print them, and so do many users' overrides. For a newer HAProxy this
 * rewrites each such line of rendered config text into the `http-request`/`http-response` rule
 * that does the same, or says why it cannot and what to write instead.
 *
 * In 2.0 a filter's regex ran over whole lines: the request line ("GET /path?q HTTP/1.1"), the
 * status line, and each header as "Name: value"; a replacement replaced the whole line. So a
 * regex `^Name:<space>rest` is a rule on header Name's value, and `^<method> <uri>` one on the
 * path and query (the version is never part of the rewrite here). Anything else is reported.
 */
import { opensSection } from '../haproxy/sections';
import { err, map, ok, type Result } from '../result';
import { conditionDnf, quoteWord, splitWords, withTerm, type Dnf, type Word } from './configWords';

/** A line that cannot be translated, and why. */
interface Untranslatable {
  readonly line: string;
  readonly message: string;
}

/** The text with every removed directive rewritten, or the first line that cannot be. */
export type Translation = Result<string, Untranslatable>;

/**
 * A line this module rewrites starts with one of these: the regex filters and `block` (2.1), and the
 * other directives 2.1 and later refuse that have an exact equivalent.
 */
export const LEGACY_START = String.raw`(?:req|rsp|block(?:[ \t]|$)|contimeout|clitimeout|srvtimeout|redispatch|(?:no[ \t]+)?option[ \t]+(?:forceclose|http-tunnel|http-use-htx|independant-streams)(?:[ \t]|$))`;
const LEGACY_LINE = new RegExp(`^[ \\t]*${LEGACY_START}`, 'm');

/** Whether a line starts with a directive this module rewrites (or one it says it cannot). */
export const startsLegacy = (line: string): boolean => LEGACY_LINE.test(line);

/**
 * Every removed directive rewritten, each section's rules put in the order 2.0 ran them: `block`
 * before the `http-request` rules, the `req*` filters after them (`reqadd` last), the `rsp*` filters
 * after the `http-response` rules (`rspadd` last), `reqsetbe` before the `use_backend` rules. Written
 * where it stood, a translated `reqrep` rewrote the path before an `http-request deny` written after it
 * could see it (a migration audit: the deny no longer matched). Cheap test first: text with no such
 * line comes back as it is.
 */
export function translateLegacyDirectives(text: string): Translation {
  if (!LEGACY_LINE.test(text)) return ok(text);
  const lines = text.split('\n');
  const out: string[] = [];
  let section: Placed[] = [];
  for (const line of lines) {
    // Rules are ordered within a section.
    if (opensSection(line)) {
      inOrder(section, out);
      section = [];
      out.push(line);
      continue;
    }
    if (!LEGACY_LINE.test(line)) {
      section.push({ text: line, phase: 'native' });
      continue;
    }
    const t = translateDirective(line);
    if (!t.ok) return err({ line: line.trim(), message: t.error });
    section.push(t.value);
  }
  inOrder(section, out);
  return ok(out.join('\n'));
}

/** Where a line runs among a section's rules. */
type Phase = 'native' | 'inPlace' | 'block' | 'reqFilter' | 'reqAdd' | 'rspFilter' | 'rspAdd' | 'switch';

interface Placed {
  readonly text: string;
  readonly phase: Phase;
}

const firstWord = (line: string): string => /^[ \t]*(\S*)/.exec(line)![1]!;

/**
 * One section's lines with the translated ones moved to where 2.0 ran them. Each keeps its order
 * among its kind. Filters only move later (after the section's own rules of their side, and the
 * request ones after the blocks), `reqadd`/`rspadd` after the filters. `block` and `reqsetbe` move
 * earlier, before the first `http-request` or `use_backend` rule, but never above an `acl` line they
 * name (a condition may name an ACL only once it is declared).
 */
function inOrder(section: readonly Placed[], out: string[]): void {
  if (section.every((p) => p.phase === 'native' || p.phase === 'inPlace')) {
    for (const p of section) out.push(p.text);
    return;
  }
  const kept: string[] = [];
  const moved: { readonly text: string; readonly phase: Phase; readonly at: number }[] = [];
  for (const p of section) {
    if (p.phase === 'native' || p.phase === 'inPlace') kept.push(p.text);
    else moved.push({ text: p.text, phase: p.phase, at: kept.length });
  }
  const words = kept.map(firstWord);
  const aclNames = kept.map((line, i) =>
    words[i] === 'acl' ? (/^[ \t]*acl[ \t]+(\S+)/.exec(line)?.[1] ?? null) : null,
  );
  const first = (w: string): number => words.indexOf(w);
  const after = (w: string): number => words.lastIndexOf(w) + 1;
  /** Just after the last `acl` line above `at` whose name `text` holds as a word. */
  const aclFloor = (text: string, at: number): number => {
    const named = new Set(text.split(/[ \t]+/).map((w) => w.replace(/^!/, '')));
    for (let i = at - 1; i >= 0; i--) if (aclNames[i] != null && named.has(aclNames[i]!)) return i + 1;
    return 0;
  };
  const insertAt = new Map<number, string[]>();
  /** Places the lines of `phase` at their places, none before `floor` nor before the one above it; returns the last place. */
  const place = (phase: Phase, target: (at: number) => number, floor: number): number => {
    let last = floor;
    for (const m of moved) {
      if (m.phase !== phase) continue;
      last = Math.max(last, target(m.at), aclFloor(m.text, m.at));
      const list = insertAt.get(last);
      if (list === undefined) insertAt.set(last, [m.text]);
      else list.push(m.text);
    }
    return last;
  };
  const earlier = (rule: number) => (at: number) => (rule < 0 ? at : Math.min(rule, at));
  const later = (rule: number) => (at: number) => Math.max(rule, at);
  const blocks = place('block', earlier(first('http-request')), 0);
  place('switch', earlier(first('use_backend')), 0);
  const reqFilters = place('reqFilter', later(after('http-request')), blocks);
  place('reqAdd', later(after('http-request')), reqFilters);
  const rspFilters = place('rspFilter', later(after('http-response')), 0);
  place('rspAdd', later(after('http-response')), rspFilters);
  for (let i = 0; i <= kept.length; i++) {
    const lines = insertAt.get(i);
    if (lines !== undefined) out.push(...lines);
    if (i < kept.length) out.push(kept[i]!);
  }
}

type Kind = 'add' | 'del' | 'rep' | 'allow' | 'deny' | 'tarpit' | 'pass' | 'setbe';
type Side = 'request' | 'response';
const KINDS: Readonly<Record<string, Kind>> = {
  add: 'add',
  del: 'del',
  rep: 'rep',
  allow: 'allow',
  deny: 'deny',
  tarpit: 'tarpit',
  pass: 'pass',
  setbe: 'setbe',
};
const ARGS: Readonly<Record<Kind, number>> = {
  add: 1,
  del: 1,
  rep: 2,
  allow: 1,
  deny: 1,
  tarpit: 1,
  pass: 1,
  setbe: 2,
};

interface Directive {
  readonly keyword: string;
  readonly side: Side;
  readonly kind: Kind;
  readonly ci: boolean;
  readonly args: readonly Word[];
  /** The `if`/`unless` words as written (empty: none) and their DNF. */
  readonly cond: string;
  readonly dnf: Dnf | null;
}

/** A line's translation, or why it cannot be translated. */
type Out = Result<string>;

/** One line in, one or more lines out (same indentation, comment kept), or the reason it stays. */
export function translateLine(line: string): Out {
  return map(translateDirective(line), (p) => p.text);
}

/** The directives 2.1+ refuse that say the same as another (HAProxy's own messages name them). */
const RENAMED: Readonly<Record<string, string>> = {
  contimeout: 'timeout connect',
  clitimeout: 'timeout client',
  srvtimeout: 'timeout server',
  redispatch: 'option redispatch',
};
const RENAMED_OPTIONS: Readonly<Record<string, string | null>> = {
  // 1.9 and 2.0 read it as httpclose.
  forceclose: 'httpclose',
  'independant-streams': 'independent-streams',
  // 2.0 ignored both in HTX mode, its default; 2.1 knows only HTX.
  'http-tunnel': null,
  'http-use-htx': null,
};

/** A line's translation and where it runs among its section's rules. */
function translateDirective(line: string): Result<Placed> {
  const { indent, words, comment } = splitWords(line);
  const keyword = words[0]?.value ?? '';
  const tail = comment === '' ? '' : ` ${comment}`;
  const rest = (from: number): string =>
    words
      .slice(from)
      .map((w) => ` ${w.raw}`)
      .join('');
  const renamed = RENAMED[keyword];
  if (renamed !== undefined) return ok({ text: `${indent}${renamed}${rest(1)}${tail}`, phase: 'inPlace' });
  const negated = keyword === 'no' ? 1 : 0;
  if (words[negated]?.value === 'option' && words[negated + 1] !== undefined) {
    const option = words[negated + 1]!.value;
    const now = RENAMED_OPTIONS[option];
    if (now === undefined) return ok({ text: line, phase: 'native' });
    const text =
      now === null
        ? `${indent}# ${line.trim()}: ignored since HAProxy 2.0 (HTTP is always processed, HTX)`
        : `${indent}${negated ? 'no ' : ''}option ${now}${rest(negated + 2)}${tail}`;
    return ok({ text, phase: 'inPlace' });
  }
  if (keyword === 'block') {
    if (words.length < 2)
      return fail(keyword, 'it needs an "if" or "unless" condition', 'http-request deny if <condition>');
    return ok({ text: `${indent}http-request deny${rest(1)}${tail}`, phase: 'block' });
  }
  const m = /^(req|rsp)(i?)(add|del|rep|allow|deny|tarpit|pass|setbe)$/.exec(keyword);
  if (
    m === null ||
    (m[2] === 'i' && m[3] === 'add') ||
    (m[1] === 'rsp' && !['add', 'del', 'rep', 'deny'].includes(m[3]!))
  )
    return ok({ text: line, phase: 'native' }); // not one we know: HAProxy says what it thinks
  const kind = KINDS[m[3]!]!;
  const side: Side = m[1] === 'req' ? 'request' : 'response';
  const args = words.slice(1, 1 + ARGS[kind]);
  const condWords = words.slice(1 + ARGS[kind]);
  if (args.length < ARGS[kind]) return fail(keyword, `it needs ${ARGS[kind]} argument(s)`, suggest(kind, side));
  if (words.some((w) => w.env)) return fail(keyword, 'it reads environment variables', suggest(kind, side));
  const cond = condWords.length === 0 ? null : conditionDnf(condWords);
  if (cond !== null && !cond.ok) return fail(keyword, cond.error, suggest(kind, side));
  const dnf = cond === null ? null : cond.value;
  const d: Directive = {
    keyword,
    side,
    kind,
    ci: m[2] === 'i',
    args,
    cond: condWords.map((w) => w.raw).join(' '),
    dnf,
  };
  const phase: Phase =
    kind === 'setbe'
      ? 'switch'
      : d.side === 'request'
        ? kind === 'add'
          ? 'reqAdd'
          : 'reqFilter'
        : kind === 'add'
          ? 'rspAdd'
          : 'rspFilter';
  return map(translate(d), (o) => ({ text: `${indent}${o}${tail}`, phase }));
}

const REQUEST_SUGGESTIONS: Readonly<Record<Kind, string>> = {
  add: 'http-request add-header <name> <value>',
  del: 'http-request del-header <name> [if { req.fhdr(<name>) -m reg <regex> }]',
  rep: 'http-request replace-header <name> <regex> <replacement>, replace-pathq or set-method',
  allow: 'http-request allow if { req.fhdr(<name>) -m reg <regex> } (or { pathq -m reg <regex> })',
  deny: 'http-request deny if { req.fhdr(<name>) -m reg <regex> } (or { pathq -m reg <regex> })',
  tarpit: 'http-request tarpit if { req.fhdr(<name>) -m reg <regex> } (or { pathq -m reg <regex> })',
  pass: 'the conditions of the rules it exempted from (… unless <condition>)',
  setbe: 'use_backend <backend> if { req.fhdr(<name>) -m reg <regex> } (or { pathq -m reg <regex> })',
};
/** The rsp* filters' (add, del, rep, deny): a migration audit found rspdel told to write http-request rules. */
const RESPONSE_SUGGESTIONS: Readonly<Partial<Record<Kind, string>>> = {
  add: 'http-response add-header <name> <value>',
  del: 'http-response del-header <name> [if { res.fhdr(<name>) -m reg <regex> }]',
  rep: 'http-response replace-header <name> <regex> <replacement>',
  deny: 'http-response deny if { res.fhdr(<name>) -m reg <regex> }',
};
const suggest = (kind: Kind, side: Side): string =>
  (side === 'response' ? RESPONSE_SUGGESTIONS[kind] : undefined) ?? REQUEST_SUGGESTIONS[kind];
/** A regex no translation reads: a request's may be a header's or the request line's, a response's only a header's. */
const unread = (search: string, side: Side): string =>
  side === 'request'
    ? `the regex "${search}" is neither "^Name: …" nor "^<method> /<path>"`
    : `the regex "${search}" is not "^Name: …"`;

function fail(keyword: string, why: string, suggestion: string): Result<never> {
  return err(
    `"${keyword}" was removed in HAProxy 2.1 and cannot be translated mechanically here (${why}); write ${suggestion} instead`,
  );
}

const cond = (d: Directive): string => (d.cond === '' ? '' : ` ${d.cond}`);
const logFormat = (s: string): string => s.replace(/%/g, '%%');
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function translate(d: Directive): Out {
  const action = `http-${d.side}`;
  const search = d.args[0]!.value;
  if (d.kind === 'add') {
    const colon = search.indexOf(':');
    const name = colon < 0 ? '' : search.slice(0, colon).trim();
    if (!TOKEN.test(name)) return fail(d.keyword, `"${search}" is not "Name: value"`, suggest('add', d.side));
    const value = search.slice(colon + 1).trim();
    // HAProxy 2.1+ takes no empty value (`''` is no argument to it): an empty sample adds the same empty header.
    const fmt = value === '' ? '%[str()]' : quoteWord(logFormat(value));
    return ok(`${action} add-header ${quoteWord(name)} ${fmt}${cond(d)}`);
  }
  if (d.kind === 'pass')
    return fail(d.keyword, 'it only exempted requests from later req* filters', suggest('pass', d.side));
  const header = headerRegex(search);
  if (d.kind === 'del') {
    if (header !== null && /^(?:\.\*)?\$?$/.test(header.rest))
      return ok(`${action} del-header ${header.name}${cond(d)}`);
    // `^X-Real-IP` (no colon) took every header whose name starts so: HAProxy 2.5+ matches names by prefix.
    const prefix = headerPrefixRegex(search);
    if (prefix === null) return fail(d.keyword, `the regex "${search}" is more than "^Name:"`, suggest('del', d.side));
    return ok(`${action} del-header ${prefix} -m beg${cond(d)}`);
  }
  if (d.kind === 'rep') return replace(d, action, search, header);
  // allow / deny / tarpit / setbe: the regex as one more ACL term of the rule.
  const flags = d.ci ? '-m reg -i' : '-m reg';
  let term: string;
  if (header !== null) {
    term = `{ ${d.side === 'request' ? 'req' : 'res'}.fhdr(${header.name}) ${flags} ${quoteWord(`^${header.rest}`)} }`;
  } else {
    const r = d.side === 'request' ? requestLine(search) : null;
    if (r === null || /\s| /.test(r.uri) || r.uri.includes('\\s'))
      return fail(d.keyword, unread(search, d.side), suggest(d.kind, d.side));
    term = `${r.methods === null ? '' : `{ method ${r.methods.join(' ')} } `}{ pathq ${flags} ${quoteWord(`^${r.uri}`)} }`;
  }
  if (d.kind === 'setbe') return ok(`use_backend ${d.args[1]!.raw} ${withTerm(term, d.dnf)}`);
  if (d.side === 'response') return ok(`${action} ${d.kind} ${withTerm(term, d.dnf)}`);
  // 2.0's reqallow let the request past the later reqdeny/reqtarpit filters (of the backend too), not
  // past later rewrites or reqadd: a mark those filters' rules test, where `http-request allow` would
  // have skipped every rule after it.
  if (d.kind === 'allow') return ok(`${action} set-var(${ALLOWED}) bool(true) ${withTerm(term, d.dnf)}`);
  return ok(`${action} ${d.kind} ${withTerm(`${term} !{ var(${ALLOWED}) -m bool }`, d.dnf)}`);
}

/** Set by a translated reqallow for the rest of the transaction. */
const ALLOWED = 'txn.legacy_reqallow';

/** `rep`: a header's value (same name before and after) or the request's path and query. */
function replace(d: Directive, action: string, search: string, header: HeaderRegex | null): Out {
  const replacement = d.args[1]!.value;
  const ci = d.ci ? '(?i)' : '';
  if (header !== null) {
    const to = /^([^:\s]+):[ \t]*(.*)$/s.exec(replacement);
    if (to === null || to[1]!.toLowerCase() !== header.name.toLowerCase()) {
      return fail(d.keyword, `"${replacement}" does not keep header ${header.name}`, suggest('rep', d.side));
    }
    return ok(
      `${action} replace-header ${header.name} ${quoteWord(`${ci}^${header.rest}`)} ${quoteWord(logFormat(to[2]!))}${cond(d)}`,
    );
  }
  const r = d.side === 'request' ? requestLine(search) : null;
  if (r === null) return fail(d.keyword, unread(search, d.side), suggest('rep', d.side));
  // The method must come back unchanged ("\1 " or the same literal) and the URI keep its tail.
  const keep =
    r.slashInGroup === true
      ? /^\\1/.exec(replacement)
      : r.groups === 1
        ? /^\\1(?: |\\s)/.exec(replacement)
        : r.methods?.length === 1
          ? new RegExp(`^${r.methods[0]} `).exec(replacement)
          : null;
  if (keep === null)
    return fail(
      d.keyword,
      `the replacement "${replacement}" changes the method or is not "<method> <uri>"`,
      suggest('rep', d.side),
    );
  const uriTo =
    (r.slashInGroup === true ? '/' : '') +
    replacement.slice(keep[0].length).replace(/\\(\d)/g, (_, n: string) => `\\${Number(n) - r.groups}`);
  const tail = /\(\.\*\)\$?$/.test(r.uri) ? countGroups(r.uri) : -1;
  if (/\\-|\\0/.test(uriTo) || /\s/.test(uriTo) || /\s/.test(r.uri) || tail < 1 || !uriTo.endsWith(`\\${tail}`)) {
    return fail(
      d.keyword,
      `"${search}" → "${replacement}" does not pass the rest of the request line through a final (.*)`,
      suggest('rep', d.side),
    );
  }
  const methodCond = r.methods === null ? cond(d) : ` ${withTerm(`{ method ${r.methods.join(' ')} }`, d.dnf)}`;
  return ok(
    `${action} replace-pathq ${quoteWord(`${ci}^${r.uri.replace(/\$$/, '')}`)} ${quoteWord(logFormat(uriTo))}${methodCond}`,
  );
}

interface HeaderRegex {
  readonly name: string;
  readonly rest: string;
}

/**
 * `^Name:<blank?>rest` → { name, rest }: the regex a 2.0 filter ran over "Name: value", as one over
 * the value. Names are kept to letters, digits, `_`, `-` (and escaped `.+*`) so that they print
 * bare, also inside `req.fhdr(…)`.
 */
function headerRegex(regex: string): HeaderRegex | null {
  const m = /^\^((?:[0-9A-Za-z_-]|\\[-.+*])+):(?:(?: |\\s|\[ \]|\\x20)(?:[?*+])?)?/.exec(regex);
  if (m === null) return null;
  return { name: m[1]!.replace(/\\(.)/g, '$1'), rest: regex.slice(m[0].length) };
}

/** The name of `^Name` or `^Name.*` (no colon: every header whose name starts so), else null. */
function headerPrefixRegex(regex: string): string | null {
  const m = /^\^((?:[0-9A-Za-z_-]|\\[-.+*])+)(?:\.\*(?::(?:\.\*)?)?)?$/.exec(regex);
  return m === null ? null : m[1]!.replace(/\\(.)/g, '$1');
}

interface RequestLine {
  /** Capture groups in the method part (0 or 1). */
  readonly groups: number;
  /** Literal methods, or null for any. */
  readonly methods: readonly string[] | null;
  readonly uri: string;
  /** The group holds the path's first slash too (`^([^ ]* /)app/(.*)` → `\1\2`). */
  readonly slashInGroup?: boolean;
}

const ANY_METHOD = String.raw`(?:\[\^ :?\][*+]|\[\^: \][*+]|\[\^ \][*+]|\\S[*+]|\[A-Z\][*+]|\[A-Za-z\][*+]|\[\^\\s\][*+])`;
const METHOD_PART = new RegExp(
  String.raw`^\^(?:(\()?(${ANY_METHOD})\)?|\(?(?:\?:)?([A-Z]+(?:\|[A-Z]+)*)\)?)(?: |\\s)[+]?(\/.*)$`,
);

/** `^(<any method> /)uri…`: the method, the blank and the path's first slash in one group. */
const WITH_SLASH = new RegExp(String.raw`^\^\((${ANY_METHOD})(?: |\\s)[+]?\/\)(.*)$`);

/** `^<method> /uri…` with the method part one of the usual "any method" classes or literal methods. */
function requestLine(regex: string): RequestLine | null {
  const slash = WITH_SLASH.exec(regex);
  if (slash !== null) return { groups: 1, methods: null, uri: `/${slash[2]!}`, slashInGroup: true };
  const m = METHOD_PART.exec(regex);
  if (m === null) return null;
  if (m[2] !== undefined) {
    if ((m[1] === '(') !== regex.startsWith('^(') || (m[1] === '(' && !regex.slice(1).startsWith(`(${m[2]})`)))
      return null;
    return { groups: m[1] === '(' ? 1 : 0, methods: null, uri: m[4]! };
  }
  const lit = m[3]!;
  const grouped = regex.startsWith(`^(${lit})`)
    ? 1
    : regex.startsWith(`^(?:${lit})`) || regex.startsWith(`^${lit}`)
      ? 0
      : -1;
  if (grouped < 0) return null;
  return { groups: grouped, methods: lit.split('|'), uri: m[4]! };
}

/** Capturing groups up to and including the last one (escapes, classes and (?…) skipped). */
function countGroups(regex: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < regex.length; i++) {
    const c = regex[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(' && regex[i + 1] !== '?') n++;
  }
  return n;
}
