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
import { err, map, ok, type Result } from '../result';
import { conditionDnf, quoteWord, splitWords, withTerm, type Dnf, type Word } from './configWords';

/** A line that cannot be translated, and why. */
interface Untranslatable {
  readonly line: string;
  readonly message: string;
}

/** The text with every removed directive rewritten, or the first line that cannot be. */
export type Translation = Result<string, Untranslatable>;

const LEGACY_LINE = /^[ \t]*(?:req|rsp|block(?:[ \t]|$))/m;

/** Cheap test first: text with no line starting `req`, `rsp` or `block` is returned as it is. */
export function translateLegacyDirectives(text: string): Translation {
  if (!LEGACY_LINE.test(text)) return ok(text);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!LEGACY_LINE.test(line)) continue;
    const t = translateLine(line);
    if (!t.ok) return err({ line: line.trim(), message: t.error });
    lines[i] = t.value;
  }
  return ok(lines.join('\n'));
}

type Kind = 'add' | 'del' | 'rep' | 'allow' | 'deny' | 'tarpit' | 'pass';
const KINDS: Readonly<Record<string, Kind>> = {
  add: 'add',
  del: 'del',
  rep: 'rep',
  allow: 'allow',
  deny: 'deny',
  tarpit: 'tarpit',
  pass: 'pass',
};
const ARGS: Readonly<Record<Kind, number>> = { add: 1, del: 1, rep: 2, allow: 1, deny: 1, tarpit: 1, pass: 1 };

interface Directive {
  readonly keyword: string;
  readonly side: 'request' | 'response';
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
  const { indent, words, comment } = splitWords(line);
  const keyword = words[0]?.value ?? '';
  const tail = comment === '' ? '' : ` ${comment}`;
  if (keyword === 'block') {
    if (words.length < 2)
      return fail(keyword, 'it needs an "if" or "unless" condition', 'http-request deny if <condition>');
    return ok(
      `${indent}http-request deny ${words
        .slice(1)
        .map((w) => w.raw)
        .join(' ')}${tail}`,
    );
  }
  const m = /^(req|rsp)(i?)(add|del|rep|allow|deny|tarpit|pass)$/.exec(keyword);
  if (
    m === null ||
    (m[2] === 'i' && m[3] === 'add') ||
    (m[1] === 'rsp' && !['add', 'del', 'rep', 'deny'].includes(m[3]!))
  )
    return ok(line); // not one we know: HAProxy says what it thinks
  const kind = KINDS[m[3]!]!;
  const args = words.slice(1, 1 + ARGS[kind]);
  const rest = words.slice(1 + ARGS[kind]);
  if (args.length < ARGS[kind]) return fail(keyword, `it needs ${ARGS[kind]} argument(s)`, SUGGEST[kind]);
  if (words.some((w) => w.env)) return fail(keyword, 'it reads environment variables', SUGGEST[kind]);
  const cond = rest.length === 0 ? null : conditionDnf(rest);
  if (cond !== null && !cond.ok) return fail(keyword, cond.error, SUGGEST[kind]);
  const dnf = cond === null ? null : cond.value;
  const d: Directive = {
    keyword,
    side: m[1] === 'req' ? 'request' : 'response',
    kind,
    ci: m[2] === 'i',
    args,
    cond: rest.map((w) => w.raw).join(' '),
    dnf,
  };
  const out = translate(d);
  return map(out, (o) => `${indent}${o}${tail}`);
}

const SUGGEST: Readonly<Record<Kind, string>> = {
  add: 'http-request add-header <name> <value> (http-response for responses)',
  del: 'http-request del-header <name> [if { req.fhdr(<name>) -m reg <regex> }]',
  rep: 'http-request replace-header <name> <regex> <replacement>, replace-pathq or set-method (http-response replace-header for responses)',
  allow: 'http-request allow if { req.fhdr(<name>) -m reg <regex> } (or { pathq -m reg <regex> })',
  deny: 'http-request deny if { req.fhdr(<name>) -m reg <regex> } (or { pathq -m reg <regex> }; http-response deny if { res.fhdr(<name>) … })',
  tarpit: 'http-request tarpit if { req.fhdr(<name>) -m reg <regex> } (or { pathq -m reg <regex> })',
  pass: 'the conditions of the rules it exempted from (… unless <condition>)',
};

function fail(keyword: string, why: string, suggestion: string): Out {
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
    if (!TOKEN.test(name)) return fail(d.keyword, `"${search}" is not "Name: value"`, SUGGEST.add);
    const value = search.slice(colon + 1).trim();
    // HAProxy 2.1+ takes no empty value (`''` is no argument to it): an empty sample adds the same empty header.
    const fmt = value === '' ? '%[str()]' : quoteWord(logFormat(value));
    return ok(`${action} add-header ${quoteWord(name)} ${fmt}${cond(d)}`);
  }
  if (d.kind === 'pass') return fail(d.keyword, 'it only exempted requests from later req* filters', SUGGEST.pass);
  const header = headerRegex(search);
  if (d.kind === 'del') {
    if (header === null || !/^(?:\.\*)?\$?$/.test(header.rest))
      return fail(d.keyword, `the regex "${search}" is more than "^Name:"`, SUGGEST.del);
    return ok(`${action} del-header ${header.name}${cond(d)}`);
  }
  if (d.kind === 'rep') return replace(d, action, search, header);
  // allow / deny / tarpit: the same action with the regex as one more ACL term.
  const flags = d.ci ? '-m reg -i' : '-m reg';
  let term: string;
  if (header !== null) {
    term = `{ ${d.side === 'request' ? 'req' : 'res'}.fhdr(${header.name}) ${flags} ${quoteWord(`^${header.rest}`)} }`;
  } else {
    const r = d.side === 'request' ? requestLine(search) : null;
    if (r === null || /\s| /.test(r.uri) || r.uri.includes('\\s'))
      return fail(d.keyword, `the regex "${search}" is neither "^Name: …" nor "^<method> /<path>"`, SUGGEST[d.kind]);
    term = `${r.methods === null ? '' : `{ method ${r.methods.join(' ')} } `}{ pathq ${flags} ${quoteWord(`^${r.uri}`)} }`;
  }
  return ok(`${action} ${d.kind} ${withTerm(term, d.dnf)}`);
}

/** `rep`: a header's value (same name before and after) or the request's path and query. */
function replace(d: Directive, action: string, search: string, header: HeaderRegex | null): Out {
  const replacement = d.args[1]!.value;
  const ci = d.ci ? '(?i)' : '';
  if (header !== null) {
    const to = /^([^:\s]+):[ \t]*(.*)$/s.exec(replacement);
    if (to === null || to[1]!.toLowerCase() !== header.name.toLowerCase()) {
      return fail(d.keyword, `"${replacement}" does not keep header ${header.name}`, SUGGEST.rep);
    }
    return ok(
      `${action} replace-header ${header.name} ${quoteWord(`${ci}^${header.rest}`)} ${quoteWord(logFormat(to[2]!))}${cond(d)}`,
    );
  }
  const r = d.side === 'request' ? requestLine(search) : null;
  if (r === null)
    return fail(d.keyword, `the regex "${search}" is neither "^Name: …" nor "^<method> /<path>"`, SUGGEST.rep);
  // The method must come back unchanged ("\1 " or the same literal) and the URI keep its tail.
  const keep =
    r.groups === 1
      ? /^\\1(?: |\\s)/.exec(replacement)
      : r.methods?.length === 1
        ? new RegExp(`^${r.methods[0]} `).exec(replacement)
        : null;
  if (keep === null)
    return fail(
      d.keyword,
      `the replacement "${replacement}" changes the method or is not "<method> <uri>"`,
      SUGGEST.rep,
    );
  const uriTo = replacement.slice(keep[0].length).replace(/\\(\d)/g, (_, n: string) => `\\${Number(n) - r.groups}`);
  const tail = /\(\.\*\)\$?$/.test(r.uri) ? countGroups(r.uri) : -1;
  if (/\\-|\\0/.test(uriTo) || /\s/.test(uriTo) || /\s/.test(r.uri) || tail < 1 || !uriTo.endsWith(`\\${tail}`)) {
    return fail(
      d.keyword,
      `"${search}" → "${replacement}" does not pass the rest of the request line through a final (.*)`,
      SUGGEST.rep,
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

interface RequestLine {
  /** Capture groups in the method part (0 or 1). */
  readonly groups: number;
  /** Literal methods, or null for any. */
  readonly methods: readonly string[] | null;
  readonly uri: string;
}

const ANY_METHOD = String.raw`(?:\[\^ :?\][*+]|\[\^ \][*+]|\\S[*+]|\[A-Z\][*+]|\[A-Za-z\][*+]|\[\^\\s\][*+])`;
const METHOD_PART = new RegExp(
  String.raw`^\^(?:(\()?(${ANY_METHOD})\)?|\(?(?:\?:)?([A-Z]+(?:\|[A-Z]+)*)\)?)(?: |\\s)[+]?(\/.*)$`,
);

/** `^<method> /uri…` with the method part one of the usual "any method" classes or literal methods. */
function requestLine(regex: string): RequestLine | null {
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
