/**
 * How text from Marathon and from non-template labels may reach an HAProxy config line.
 *
 * HAProxy 2.6 cuts a line into words itself (configuration.txt §2.2): `"` quotes weakly, `'`
 * strongly, `\` escapes, an unquoted `#` starts a comment, and `$NAME`/`${NAME}` is expanded from
 * the environment inside double quotes only (§2.3). marathon-lb splices label text into lines as
 * is, so a value may legitimately hold several words or quotes; what it must not do is end the
 * line, leave a quote open for the template's own text, comment out the rest of the template
 * line, or read the environment. `\$` means a literal `$` both unquoted and inside double quotes.
 */

import { TextCopy } from './textCopy';

/** Control characters other than tab: a line feed (or CR, NUL) would start a new config line. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
/** Characters the word scanner must look at; text without any of them is printed unchanged. */
const SPECIAL = /[$"'\\#\u0000-\u0008\u000a-\u001f\u007f]/;
const HEX_CONTROL = /^[01][0-9a-fA-F]$|^7[fF]$/;
const HEX_PAIR = /^[0-9a-fA-F]{2}$/;
const BAD_HEX_ESCAPE = 'must not contain \\x without two hex digits after it (HAProxy refuses the whole config)';

/**
 * Not a Result (src/result.ts): configText runs for every label of every app, and its common path
 * returns the value itself, allocating nothing.
 */
export type TextResult = string | { readonly error: string };

/**
 * The text to splice where HAProxy reads words, escaped so that it cannot expand environment
 * variables (`$` inside double quotes becomes `\$`) nor comment out the rest of the line (an
 * unquoted `#` becomes `\#`), or the reason it cannot be printed there. `quoted`: the template
 * itself wraps the value in double quotes.
 */
export function configText(value: string, quoted = false): TextResult {
  if (!SPECIAL.test(value)) return value;
  if (CONTROL.test(value)) return { error: 'must not contain line breaks or other control characters' };
  const out = new TextCopy(value);
  let state: '' | '"' | "'" = quoted ? '"' : '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (state === "'") {
      if (c === "'") state = '';
      continue;
    }
    if (c === '\\') {
      const next = value[i + 1];
      if (next === undefined) return { error: 'must not end with a backslash (it would escape the text after it)' };
      if (next === 'n' || next === 'r' || (next === 'x' && HEX_CONTROL.test(value.slice(i + 2, i + 4)))) {
        return {
          error: `must not contain the escape \\${next === 'x' ? value.slice(i + 1, i + 4) : next} (a control character)`,
        };
      }
      if (next === 'x' && !HEX_PAIR.test(value.slice(i + 2, i + 4))) return { error: BAD_HEX_ESCAPE };
      i++;
    } else if (c === '$') {
      if (state === '"') out.replace(i, 1, '\\$');
    } else if (c === '#') {
      if (state === '') out.replace(i, 1, '\\#');
    } else if (c === '"') {
      if (quoted) return { error: 'must not contain a double quote' };
      state = state === '"' ? '' : '"';
    } else if (c === "'" && state === '') {
      // Inside double quotes a single quote is a plain character (configuration.txt §2.2).
      state = "'";
    }
  }
  if (state !== (quoted ? '"' : '')) return { error: `has an unbalanced ${state === "'" ? 'single' : 'double'} quote` };
  return out.upTo();
}

/**
 * Why HAProxy's line parser (parse_line) would refuse a line of a template label, and with it the
 * whole config: a `\x` outside single quotes not followed by two hex digits, or a quote still open
 * where the line (or its comment) starts; null when HAProxy reads the line.
 */
export function lineSyntaxProblem(line: string): string | null {
  if (!/["'\\]/.test(line)) return null;
  let state: '' | '"' | "'" = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (state === "'") {
      if (c === "'") state = '';
    } else if (c === '\\') {
      if (line[i + 1] === 'x' && !HEX_PAIR.test(line.slice(i + 2, i + 4)))
        return `has ${JSON.stringify(line.slice(i, i + 4))}: \\x without two hex digits after it`;
      i++;
    } else if (c === '#' && state === '') break;
    else if (c === '"') state = state === '"' ? '' : '"';
    else if (c === "'" && state === '') state = "'";
  }
  return state === '' ? null : `has an unbalanced ${state === "'" ? 'single' : 'double'} quote`;
}

/** Characters a backslash turns into themselves outside single quotes. */
const SELF_ESCAPED = new Set(['\\', ' ', '\t', '#', '"', "'"]);
const CONTROL_ESCAPES: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r' };

/**
 * The words HAProxy makes of already checked text (see configText), as HAProxy 2.6 cuts them: split
 * on unquoted blanks, quotes removed; outside single quotes `\\ \  \# \" \'` give the character,
 * `\xHH`, `\t`, `\n`, `\r` the byte, `\$` a `$` inside double quotes (and stays `\$` outside), and
 * any other escape stays as written (`\d` reaches a regex as `\d`). Only for validation, not on
 * the hot path of plain values.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: TextCopy | null = null;
  let state: '' | '"' | "'" = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (state === '' && (c === ' ' || c === '\t')) {
      if (word !== null) words.push(word.upTo(i));
      word = null;
      continue;
    }
    word ??= new TextCopy(text, i);
    if (state !== "'" && c === '\\' && i + 1 < text.length) {
      const next = text[i + 1]!;
      const hex = next === 'x' ? /^[0-9a-fA-F]{2}/.exec(text.slice(i + 2, i + 4)) : null;
      if (SELF_ESCAPED.has(next)) word.replace(i, 2, next);
      else if (hex !== null) {
        word.replace(i, 4, String.fromCharCode(parseInt(hex[0], 16)));
        i += 2;
      } else if (next in CONTROL_ESCAPES) word.replace(i, 2, CONTROL_ESCAPES[next]!);
      else if (next === '$' && state === '"') word.replace(i, 2, '$');
      // Any other pair, and `\$` outside double quotes, stays as written.
      i++;
    } else if (state === '' && (c === '"' || c === "'")) {
      state = c;
      word.replace(i, 1, '');
    } else if (c === state) {
      state = '';
      word.replace(i, 1, '');
    }
  }
  if (word !== null) words.push(word.upTo());
  return words;
}

/**
 * An AUTH password HAProxy reads as none at all, printed after `password` as marathon-lb prints it:
 * nothing, empty quotes, or a comment to the end of the line. No one logs in with it (checked on a
 * live HAProxy: 401 for every credential), as with marathon-lb's config.
 */
export const readsAsNoPassword = (p: string): boolean =>
  p === '' || p === '""' || p === "''" || (p.startsWith('#') && !CONTROL.test(p));

/**
 * One word without quoting or escapes: user names, password hashes, file names. Blanks are HAProxy's
 * (space, and the control characters refused anyway), not JS's `\s`: a no-break space is a byte
 * string to HAProxy, part of the word.
 */
const PLAIN_WORD = /^[^ "'\\#\u0000-\u001f\u007f]+$/;
export const isPlainWord = (s: string): boolean => PLAIN_WORD.test(s);

/**
 * One word as HAProxy reads it, made of plain runs and quoted runs with nothing to unescape or expand
 * (`crt '/etc/ssl/my cert.pem'`, `/etc/ssl/'x'.pem`): no backslash, no `$` inside double quotes, no
 * unquoted `#`, no control character, quotes balanced. Such text is printed as written.
 */
const QUOTED_WORD = /(?:[^ \t"'\\#\u0000-\u001f\u007f]+|'[^'\\\u0000-\u001f\u007f]*'|"[^"\\$\u0000-\u001f\u007f]*")+/y;
const BLANKS = /[ \t]*/y;

/**
 * The words HAProxy makes of `text` when each is a QUOTED_WORD (quotes removed), or null when it
 * holds anything else. For labels printed as several words (BIND_OPTIONS).
 */
export function quotedWords(text: string): string[] | null {
  const words: string[] = [];
  let i = 0;
  for (;;) {
    BLANKS.lastIndex = i;
    BLANKS.test(text);
    i = BLANKS.lastIndex;
    if (i === text.length) return words;
    QUOTED_WORD.lastIndex = i;
    const m = QUOTED_WORD.exec(text);
    if (m === null) return null;
    words.push(m[0].replace(/'([^']*)'|"([^"]*)"/g, (_, single?: string, double?: string) => single ?? double ?? ''));
    i = QUOTED_WORD.lastIndex;
  }
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]{2,45}$/;
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

export const isIPv4 = (s: string): boolean => IPV4.test(s);

/** RFC 4291 text form (with an optional trailing dotted IPv4), checked without allocating a URL. */
export function isIPv6(s: string): boolean {
  if (!IPV6_CHARS.test(s)) return false;
  let head = s;
  let groupsForV4 = 0;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    if (!isIPv4(s.slice(lastColon + 1))) return false;
    head = s.slice(0, lastColon + 1) + '0';
    groupsForV4 = 1;
  }
  const halves = head.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string): string[] | null => {
    if (h === '') return [];
    const g = h.split(':');
    return g.every((x) => /^[0-9A-Fa-f]{1,4}$/.test(x)) ? g : null;
  };
  const a = groups(halves[0]!);
  const b = halves.length === 2 ? groups(halves[1]!) : [];
  if (a === null || b === null) return false;
  const n = a.length + b.length + groupsForV4;
  return halves.length === 2 ? n <= 7 : n === 8;
}

export const isIP = (s: string): boolean => isIPv4(s) || isIPv6(s);

/** An IPv6 address's eight groups (a final dotted IPv4 part read too), or null when it is not one. */
export function ipv6Groups(s: string): number[] | null {
  if (!/^[0-9a-f:.]+$/.test(s) || !s.includes(':')) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const words = part.split(':');
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (/^[0-9a-f]{1,4}$/.test(w)) out.push(parseInt(w, 16));
      else if (i === words.length - 1 && /^\d{1,3}(\.\d{1,3}){3}$/.test(w)) {
        const [a, b, c, d] = w.split('.').map(Number) as [number, number, number, number];
        if (Math.max(a, b, c, d) > 255) return null;
        out.push(a * 256 + b, c * 256 + d);
      } else return null;
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 1 ? zeros !== 0 : zeros < 1) return null;
  return [...head, ...new Array<number>(halves.length === 1 ? 0 : zeros).fill(0), ...tail];
}

/**
 * The IPv4 address of an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, `::ffff:a00:1`), else undefined.
 * marathon-lb's gethostbyname gives that IPv4 address for such a task host, so its tasks are served.
 */
export function ipv4MappedAddress(s: string): string | undefined {
  if (!s.includes(':') || !/ffff/i.test(s)) return undefined; // the common host skips the parse
  const g = ipv6Groups(s.toLowerCase());
  if (g === null || g[5] !== 0xffff || g.slice(0, 5).some((x) => x !== 0)) return undefined;
  return `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
}

/** A name, not an address: HAProxy reads an all-numeric last label (`300.1.1.1`) as a bad IPv4 address. */
export const isHostName = (s: string): boolean => HOST_NAME.test(s) && !/(^|\.)\d+\.?$/.test(s);

/**
 * An IPv4 address in the C library's numbers-and-dots forms (inet_aton), which HAProxy reads where it
 * would resolve a name (`acl ... src 10.1` is 10.0.0.1): one to four decimal or octal (leading 0)
 * parts, the last filling the bytes left. Hex parts are left out: HAProxy refused `0x0a000001`.
 */
function isShortIPv4(s: string): boolean {
  return dottedIPv4(s) !== undefined;
}

/** The dotted-quad form of an IPv4 address in one of inet_aton's forms (isShortIPv4), else undefined. */
export function dottedIPv4(s: string): string | undefined {
  if (!/^\d+(\.\d+){0,3}$/.test(s)) return undefined;
  const texts = s.split('.');
  // A leading 0 is octal to inet_aton: `08` is no number there, and HAProxy refused `08.0.0.1`.
  if (texts.some((p) => /^0\d/.test(p) && !/^0[0-7]+$/.test(p))) return undefined;
  const parts = texts.map((p) => (/^0[0-7]+$/.test(p) ? parseInt(p, 8) : Number(p)));
  let value = 0;
  for (let i = 0; i < parts.length; i++) {
    const bytes = i < parts.length - 1 ? 1 : 5 - parts.length;
    if (parts[i]! >= 2 ** (8 * bytes)) return undefined;
    value = i < parts.length - 1 ? value * 256 + parts[i]! : value * 2 ** (8 * bytes) + parts[i]!;
  }
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/**
 * An address or network for `acl ... src`: IPv4/IPv6, optionally with a /prefix (or IPv4 /netmask).
 * A lone IPv4 address in a short form too (`10.1`, which HAProxy reads as 10.0.0.1, as marathon-lb
 * prints it). Not with a prefix: HAProxy reads `192.168/16` as 192.0.0.168/16, a public range, and
 * the intended 192.168.0.0/16 would be refused (an audit, checked on a live HAProxy).
 */
export function isAddressOrNetwork(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return isIP(s) || isShortIPv4(s);
  const ip = s.slice(0, slash);
  const mask = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(mask)) return isIPv4(ip) && isIPv4(mask);
  const bits = Number(mask);
  return isIPv4(ip) ? bits <= 32 : isIPv6(ip) && bits <= 128;
}

/**
 * The host name of a BACKEND_NETWORK_ALLOWED_ACL word that names a host, alone or with a mask
 * (`src db.example.com`, `…/24`, `…/255.255.0.0`), or undefined: HAProxy resolves it (IPv4) when it
 * loads the config, as it resolves BIND_ADDR.
 */
export function aclNetworkHost(word: string): string | undefined {
  const slash = word.indexOf('/');
  const host = slash < 0 ? word : word.slice(0, slash);
  if (!isHostName(host)) return undefined;
  if (slash < 0) return host;
  const mask = word.slice(slash + 1);
  return (/^\d{1,2}$/.test(mask) && Number(mask) <= 32) || isIPv4(mask) ? host : undefined;
}

/**
 * The address HAProxy reads in a BIND_ADDR label printed as marathon-lb prints it (`bind <it>:<port>`):
 * its one word with HAProxy's quotes and escapes taken out (`"127.0.0.1"` is 127.0.0.1), or null when
 * HAProxy could not parse the line or would read more than one word.
 */
export function bindAddressWord(label: string): string | null {
  if (!/["'\\]/.test(label)) return label;
  if (lineSyntaxProblem(label) !== null) return null;
  const words = splitWords(label);
  return words.length === 1 ? words[0]! : null;
}

/** A BIND_ADDR's address as HAProxy reads it, without `ipv4@`/`ipv6@` and IPv6 brackets (`[::1]` is ::1). */
export function bareBindAddress(bindAddr: string): string {
  return (bindAddressWord(bindAddr) ?? bindAddr).replace(/^ipv[46]@/, '').replace(/^\[(.*)\]$/, '$1');
}

/** What `bind <addr>:<port>` accepts for BIND_ADDR: `*`, an IPv4/IPv6 address (after ipv4@/ipv6@ or not) or a host name. */
export function isBindAddress(s: string): boolean {
  // HAProxy's address family prefixes (configuration.txt §11), before an address (host names have none here).
  if (s.startsWith('ipv4@')) return isIPv4(s.slice(5)) || isShortIPv4(s.slice(5));
  if (s.startsWith('ipv6@')) return /^\[.*\]$/.test(s.slice(5)) ? isIPv6(s.slice(6, -1)) : isIPv6(s.slice(5));
  if (s === '*' || isIPv4(s) || isShortIPv4(s) || isHostName(s)) return true;
  if (s.startsWith('[') && s.endsWith(']')) return isIPv6(s.slice(1, -1));
  return isIPv6(s);
}

/**
 * One name of a VHOST label, as HAProxy reads it where marathon-lb prints it (an ACL's pattern, an SNI
 * pattern inside `{ }`, a map's key, a Host header's value): any word but one that would be read
 * otherwise. Refused: blanks (any Unicode space: a map line's reader may split there too) and control
 * characters (word and line breaks), quotes, backslash and `#`
 * (HAProxy's quoting, escapes and comments), `$` (its environment variables), `%` (a log-format
 * expression in the Host header PROXYPASS sets), braces (they close an anonymous ACL) and a leading `-`
 * (an ACL flag). A name no client sends (`bücher.example`, not `xn--bcher-kva.example`) is served as
 * marathon-lb serves it: its ACL never matches, its service port still routes.
 */
const VHOST = /^[^\s\u0000-\u001f\u007f-\u009f"'\\#$%{},-][^\s\u0000-\u001f\u007f-\u009f"'\\#$%{},]*$/;
/** Words HAProxy's condition parser reads as operators alone in `{ ssl_fc_sni or }`: it refused the config. */
export const isOperatorWord = (s: string): boolean => /^(or|and)$/i.test(s);
export const isVhost = (s: string): boolean => VHOST.test(s) && !isOperatorWord(s);

/**
 * HAProxy proxy names allow letters, digits, `-`, `_`, `.` and `:`; app ids add `/` (turned into `_`).
 * Not starting with `-`: the id is an ACL pattern of the app-id frontend, where HAProxy reads `-0` as
 * a flag and refuses the config (Marathon's ids start with `/`).
 */
const APP_ID = /^[A-Za-z0-9_.:/][A-Za-z0-9_.:/-]*$/;
/** Longest app id (or deployment group) routed: it names sections and is printed on many lines. */
export const MAX_APP_ID_LENGTH = 1024;
export const isAppId = (s: string): boolean => APP_ID.test(s) && s.length <= MAX_APP_ID_LENGTH;
/** What the messages about app ids say they must be. */
export const APP_ID_RULE = `at most ${MAX_APP_ID_LENGTH} letters, digits, "-", "_", ".", ":" and "/", not starting with "-"`;

export const isPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
