import { quotedWords } from './haproxyText';

/** File checks the model needs; implemented with the file system outside the pure core (src/model/files.ts). */
export interface FileChecks {
  /** null when `path` is a certificate HAProxy can load for `crt` (PEM with its key), else the reason. */
  certificate(path: string): string | null;
  /** null when `path` is a readable PEM file (CA or CRL), else the reason. */
  pemFile(path: string): string | null;
  /** null when HAProxy can read `path` at load and be done (a template label names it; `asCrt`: after `crt`), else the reason. */
  loadedFile?(path: string, asCrt: boolean): string | null;
  /** Whether the load balancer knows this user (`group`: group) name: HAProxy looks names up when it loads the config. */
  knowsName?(kind: 'user' | 'group', name: string): boolean;
  /** The threads HAProxy runs on the load balancer (its CPUs, unless HAPROXY_HEAD sets nbthread). */
  threads?(): number;
  /** null when OpenSSL takes this `ciphers`, `ciphersuites` or `curves` list (at least one entry it knows), else the reason. */
  tlsList?(keyword: 'ciphers' | 'ciphersuites' | 'curves', list: string): string | null;
  /**
   * The lines of a `crt-list` file, trimmed, or why it cannot be read. Its text is never quoted
   * back: a label may name any file.
   */
  crtListLines?(path: string): readonly string[] | string;
}

type Arg =
  | 'none'
  | 'int'
  | 'posint'
  | 'time'
  | 'name'
  | 'label'
  | 'alpn'
  | 'crt'
  | 'pem'
  | 'threads'
  | 'account'
  | 'tls'
  | 'nice'
  | 'mss'
  | 'errors'
  | 'octal'
  | 'curve'
  | 'word'
  | 'crtlist'
  | readonly string[];

const INT = /^-?\d{1,9}$/;
const TIME = /^\d{1,9}(us|ms|s|m|h|d)?$/;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const ALPN = /^[A-Za-z0-9._/-]{1,32}(,[A-Za-z0-9._/-]{1,32})*$/;
const SSL_VERSIONS = ['SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
/** A thread set: `all`, `odd`, `even`, or numbers and ranges (`1`, `1-4`, `1/2-3`), comma-separated. */
const THREADS = /^(all|odd|even|(\d{1,4}\/)?\d{1,4}(-\d{1,4})?(,(\d{1,4}\/)?\d{1,4}(-\d{1,4})?)*)$/;
/** HAProxy 2.6 runs one process: `process` can only name it. */
const PROCESSES = ['all', 'odd', 'even', '1'];
/** HAProxy's timers hold milliseconds in a signed 32-bit integer. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const TIME_UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };
/** `ca-ignore-err`/`crt-ignore-err`: `all` or OpenSSL error ids. */
const ERRORS = /^(all|\d{1,6}(,\d{1,6})*)$/;
const OCTAL = /^[0-7]{1,4}$/;
/** What an OpenSSL cipher, suite or curve list is made of. */
const TLS_LIST = /^[A-Za-z0-9_.+!@=:,-]{1,512}$/;
const CURVE = /^[A-Za-z0-9_-]{1,64}$/;
/** A passphrase (`ca-sign-pass`): one word, as quotedWords read it. */
const WORD = /^\S{1,256}$/;
/** An SNI filter of a crt-list line: a name, a wildcard one, or either negated. */
const SNI_FILTER = /^!?[A-Za-z0-9*_.-]{1,253}$/;

/**
 * HAProxy 2.6's `bind` keywords (configuration.txt §5.1) a label may use on a TCP listener, with
 * the argument each takes. HAProxy accepts the UNIX-socket and stats-socket ones (mode, uid,
 * user, level, ...) on a TCP listener too, and ignores them there: so do these (a user or group
 * name must exist on the load balancer, where HAProxy looks it up). `ciphers`, `ciphersuites` and
 * `curves` (marathon-lb's own example label sets `ciphers`) are judged by OpenSSL (FileChecks.tlsList):
 * HAProxy refuses a list none of whose entries OpenSSL knows; so is `ecdhe`'s curve. The files
 * `crt-list` and `ca-sign-file` name are read as HAProxy reads them; `proto` must fit the service's
 * mode (protoProblem). Left out: `namespace` and `expose-fd`, which only a host's setup can judge.
 */
const KEYWORDS: ReadonlyMap<string, Arg> = new Map<string, Arg>([
  ['accept-proxy', 'none'],
  ['allow-0rtt', 'none'],
  ['defer-accept', 'none'],
  ['no-ca-names', 'none'],
  ['force-sslv3', 'none'],
  ['force-tlsv10', 'none'],
  ['force-tlsv11', 'none'],
  ['force-tlsv12', 'none'],
  ['force-tlsv13', 'none'],
  ['no-sslv3', 'none'],
  ['no-tlsv10', 'none'],
  ['no-tlsv11', 'none'],
  ['no-tlsv12', 'none'],
  ['no-tlsv13', 'none'],
  ['no-tls-tickets', 'none'],
  ['prefer-client-ciphers', 'none'],
  ['ssl', 'none'],
  ['strict-sni', 'none'],
  ['tfo', 'none'],
  ['transparent', 'none'],
  ['v4v6', 'none'],
  ['v6only', 'none'],
  ['accept-netscaler-cip', 'int'],
  ['backlog', 'posint'],
  ['maxconn', 'posint'],
  ['mss', 'mss'],
  ['id', 'posint'],
  ['tcp-ut', 'time'],
  ['name', 'label'],
  ['interface', 'name'],
  ['alpn', 'alpn'],
  ['npn', 'alpn'],
  ['crt', 'crt'],
  ['ca-file', 'pem'],
  ['crl-file', 'pem'],
  ['ca-verify-file', 'pem'],
  ['ssl-min-ver', SSL_VERSIONS],
  ['ssl-max-ver', SSL_VERSIONS],
  ['verify', ['none', 'optional', 'required']],
  ['ciphers', 'tls'],
  ['ciphersuites', 'tls'],
  ['curves', 'tls'],
  ['nice', 'nice'],
  ['thread', 'threads'],
  ['process', PROCESSES],
  ['ca-ignore-err', 'errors'],
  ['crt-ignore-err', 'errors'],
  ['severity-output', ['none', 'number', 'string']],
  ['level', ['user', 'operator', 'admin']],
  ['uid', 'int'],
  ['gid', 'int'],
  ['user', 'account'],
  ['group', 'account'],
  ['mode', 'octal'],
  ['ecdhe', 'curve'],
  ['proto', ['h1', 'h2', 'none']],
  ['crt-list', 'crtlist'],
  ['ca-sign-file', 'crt'],
  ['ca-sign-pass', 'word'],
  ['generate-certificates', 'none'],
]);

/** The keywords a crt-list line may set for its certificates, between brackets (HAProxy's ssl_bind_kw). */
const CRT_LIST_KEYWORDS: ReadonlySet<string> = new Set([
  'allow-0rtt',
  'alpn',
  'ca-file',
  'ca-verify-file',
  'ciphers',
  'ciphersuites',
  'crl-file',
  'curves',
  'ecdhe',
  'no-ca-names',
  'npn',
  'ssl-min-ver',
  'ssl-max-ver',
  'verify',
]);

/**
 * Words of HAProxy's line, at most: 64; the bind line's own words (`bind ADDR:PORT ssl crt PATH`)
 * leave this many to a label. marathon-lb printed more than 48, which HAProxy took (an audit).
 */
const MAX_WORDS = 64 - 5;

/**
 * null when `text` (HAPROXY_{n}_BIND_OPTIONS) is a list of bind keywords HAProxy accepts, else the
 * reason. Words may be quoted as HAProxy reads them (`crt '/etc/ssl/my cert.pem'`): the checks see
 * what HAProxy sees, and the text is printed as written.
 */
export function checkBindOptions(text: string, files: FileChecks | undefined, hasCert: boolean): string | null {
  const words = quotedWords(text);
  if (words === null)
    return 'must be words HAProxy reads as written: no backslashes, # or control characters, no $ inside double quotes, quotes balanced';
  if (words.length > MAX_WORDS) return `has more than ${MAX_WORDS} words`;
  let ssl = false;
  let crt = hasCert;
  let caFile = false;
  let verify = 'none';
  const seen = new Set<string>();
  const versions: { min?: string; max?: string } = {};
  for (let i = 0; i < words.length; i++) {
    const kw = words[i]!;
    const arg = KEYWORDS.get(kw);
    if (arg === undefined) return `unknown or unsupported bind keyword ${JSON.stringify(kw)}`;
    // HAProxy takes a repeated keyword as a second setting; a second `id` clashes with the first (id 5 id 6).
    if (kw === 'id' && seen.has(kw)) return `bind keyword ${kw} is given twice`;
    seen.add(kw);
    if (kw === 'ssl') ssl = true;
    if (arg === 'none') continue;
    const v = words[++i];
    if (v === undefined) return `bind keyword ${kw} needs a value`;
    const bad = checkArg(kw, arg, v, files);
    if (bad !== null) return `bind keyword ${kw}: ${bad}`;
    if (kw === 'crt' || kw === 'crt-list') crt = true;
    if (kw === 'ca-file') caFile = true;
    if (kw === 'verify') verify = v;
    if (kw === 'ssl-min-ver') versions.min = v;
    if (kw === 'ssl-max-ver') versions.max = v;
  }
  const noVersion = sslVersionsProblem(seen, versions);
  if (noVersion !== null) return noVersion;
  if (ssl && !crt) return '"ssl" needs a certificate (crt, or the HAPROXY_{n}_SSL_CERT label)';
  if (verify !== 'none' && !caFile) return `"verify ${verify}" needs a ca-file`;
  if (seen.has('generate-certificates') && !seen.has('ca-sign-file'))
    return '"generate-certificates" needs a ca-sign-file (a CA certificate and its key)';
  return null;
}

/**
 * Why `proto` in `text` (BIND_OPTIONS) does not fit a listener of `mode`, or null: HAProxy takes
 * `h1` and `h2` only in http mode, `none` only in tcp mode ("MUX protocol is not usable").
 */
export function protoProblem(text: string, mode: 'http' | 'tcp'): string | null {
  const words = quotedWords(text) ?? [];
  for (let i = words.indexOf('proto'); i >= 0; i = words.indexOf('proto', i + 1)) {
    const v = words[i + 1];
    if (v === undefined) continue;
    if ((v === 'none') !== (mode === 'tcp'))
      return `bind keyword proto: ${JSON.stringify(v)} is not usable in ${mode} mode (${mode === 'http' ? 'h1 or h2' : 'none'})`;
  }
  return null;
}

/**
 * Why HAProxy would refuse the crt-list file at `path`, or null: each line a certificate it can
 * load, then bracketed SSL keywords and SNI filters. Lines are named by number only.
 */
function crtListProblem(path: string, files: FileChecks | undefined): string | null {
  const lines = files?.crtListLines?.(path);
  if (lines === undefined) return null;
  if (typeof lines === 'string') return lines;
  let certificates = 0;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    if (line === '' || line.startsWith('#')) continue; // as HAProxy skips them
    certificates++;
    const why = crtListLineProblem(line, files);
    if (why !== null) return `${path}, line ${n + 1}: ${why}`;
  }
  return certificates === 0 ? `${path} lists no certificate` : null;
}

function crtListLineProblem(line: string, files: FileChecks | undefined): string | null {
  const open = line.indexOf('[');
  const close = line.indexOf(']');
  if (open < 0 !== close < 0 || close < open) return 'its brackets are not balanced';
  const head = (open < 0 ? line : line.slice(0, open)).trim().split(/\s+/);
  const tail =
    open < 0
      ? []
      : line
          .slice(close + 1)
          .trim()
          .split(/\s+/);
  const [cert, ...filtersBefore] = head;
  if (cert === undefined || cert === '') return 'names no certificate';
  if (open >= 0 && filtersBefore.length > 0) return 'has words between the certificate and its [options]';
  if (files !== undefined && files.certificate(cert) !== null)
    return 'names no certificate and private key HAProxy can load';
  const options = open < 0 ? [] : (quotedWords(line.slice(open + 1, close)) ?? null);
  if (options === null) return 'has [options] HAProxy cannot read';
  for (let i = 0; i < options.length; i++) {
    const kw = options[i]!;
    const arg = KEYWORDS.get(kw);
    if (!CRT_LIST_KEYWORDS.has(kw) || arg === undefined)
      return `bind keyword ${JSON.stringify(kw)} is not one a crt-list takes`;
    if (arg === 'none') continue;
    const v = options[++i];
    if (v === undefined) return `bind keyword ${kw} needs a value`;
    const bad = checkArg(kw, arg, v, files);
    if (bad !== null) return `bind keyword ${kw}: it is not a value HAProxy takes`;
  }
  const filters = [...(open < 0 ? filtersBefore : []), ...tail].filter((w) => w !== '');
  if (!filters.every((f) => SNI_FILTER.test(f))) return 'has an SNI filter that is not a host name';
  return null;
}

/**
 * Why these SSL/TLS version keywords leave the listener no version, as HAProxy 2.6 with OpenSSL 3
 * refuses it ("all SSL/TLS versions are disabled"): OpenSSL has no SSLv3, the minimum is above the
 * maximum, `force-*` outside `ssl-min-ver`..`ssl-max-ver`, or TLS 1.1 to 1.3 all switched off (1.0
 * is off by the default `ssl-default-bind-options`).
 */
function sslVersionsProblem(
  keywords: ReadonlySet<string>,
  v: { readonly min?: string; readonly max?: string },
): string | null {
  const rank = (version: string | undefined): number | undefined =>
    version === undefined ? undefined : SSL_VERSIONS.indexOf(version);
  const min = rank(v.min);
  const max = rank(v.max);
  if (keywords.has('force-sslv3') || max === 0)
    return 'SSLv3 is not available (OpenSSL 3 has none): no SSL/TLS version would be left';
  if (min !== undefined && max !== undefined && min > max)
    return 'ssl-min-ver is above ssl-max-ver: no SSL/TLS version would be left';
  const forced = SSL_VERSIONS.flatMap((s, rank) =>
    keywords.has(`force-${s.replace('.', '').toLowerCase()}`) ? [rank] : [],
  );
  if (forced.some((f) => (min !== undefined && f < min) || (max !== undefined && f > max)))
    return 'a force-* version is outside ssl-min-ver..ssl-max-ver: no SSL/TLS version would be left';
  if (
    min === undefined &&
    max === undefined &&
    forced.length === 0 &&
    ['no-tlsv11', 'no-tlsv12', 'no-tlsv13'].every((k) => keywords.has(k))
  )
    return 'no-tlsv11, no-tlsv12 and no-tlsv13 leave only TLS 1.0, which the default ssl-default-bind-options turn off';
  return null;
}

/** Why HAProxy would refuse thread set `v` (threads it does not run, or a thread group but the first), or null. */
function threadsProblem(v: string, files: FileChecks | undefined): string | null {
  if (!THREADS.test(v)) return `${JSON.stringify(v)} is not a thread set (all, odd, even, 1, 1-4, 1/2, ...)`;
  const threads = files?.threads?.() ?? 1;
  if (v === 'all' || v === 'odd') return null;
  if (v === 'even') return threads >= 2 ? null : 'even names no thread: HAProxy runs 1 here';
  for (const part of v.split(',')) {
    const [group, set] = part.includes('/') ? part.split('/') : ['1', part];
    if (group !== '1') return `thread group ${group} does not exist (HAProxy runs one thread group)`;
    if (set!.split('-').some((n) => Number(n) < 1 || Number(n) > threads))
      return `thread ${JSON.stringify(part)} is not among the ${threads} HAProxy runs here`;
  }
  return null;
}

function checkArg(kw: string, arg: Exclude<Arg, 'none'>, v: string, files: FileChecks | undefined): string | null {
  if (Array.isArray(arg)) return arg.includes(v) ? null : `${JSON.stringify(v)} is not one of ${arg.join(', ')}`;
  switch (arg) {
    case 'int':
      return INT.test(v) ? null : `${JSON.stringify(v)} is not an integer`;
    case 'posint':
      return INT.test(v) && Number(v) > 0 ? null : `${JSON.stringify(v)} is not a positive integer`;
    case 'time': {
      const t = TIME.exec(v);
      if (t === null) return `${JSON.stringify(v)} is not a duration`;
      return Number(t[0].replace(/[a-z]+$/, '')) * TIME_UNIT_MS[t[1] ?? 'ms']! > MAX_TIMER_MS
        ? `${JSON.stringify(v)} is longer than HAProxy's timers hold (24.8 days)`
        : null;
    }
    case 'threads':
      return threadsProblem(v, files);
    case 'account':
      if (!NAME.test(v)) return `${JSON.stringify(v)} is not a name`;
      return files?.knowsName?.(kw as 'user' | 'group', v) === false
        ? `the load balancer has no ${kw} ${JSON.stringify(v)}`
        : null;
    case 'tls':
      return TLS_LIST.test(v)
        ? (files?.tlsList?.(kw as 'ciphers' | 'ciphersuites' | 'curves', v) ?? null)
        : `${JSON.stringify(v)} is not an OpenSSL list (names, aliases and + ! - @ = separated by :)`;
    case 'nice':
      return INT.test(v) && Math.abs(Number(v)) <= 1024
        ? null
        : `${JSON.stringify(v)} is not an integer in -1024..1024`;
    case 'mss':
      return INT.test(v) && Math.abs(Number(v)) >= 1 && Math.abs(Number(v)) <= 65535
        ? null
        : `${JSON.stringify(v)} is not an MSS (1..65535, or its negative)`;
    case 'name':
      return NAME.test(v) ? null : `${JSON.stringify(v)} is not a name`;
    // The listener's name in stats and logs: any text HAProxy reads as one word (`name "my api"`).
    case 'label':
      return v === '' ? '"" is not a name' : null;
    case 'alpn':
      return ALPN.test(v) ? null : `${JSON.stringify(v)} is not a comma-separated protocol list`;
    case 'crt':
      return files === undefined ? null : files.certificate(v);
    case 'pem':
      return files === undefined ? null : files.pemFile(v);
    case 'errors':
      return ERRORS.test(v) ? null : `${JSON.stringify(v)} is not "all" or a comma-separated list of error ids`;
    case 'octal':
      return OCTAL.test(v) ? null : `${JSON.stringify(v)} is not an octal mode`;
    case 'curve':
      return CURVE.test(v) ? (files?.tlsList?.('curves', v) ?? null) : `${JSON.stringify(v)} is not a curve name`;
    case 'word':
      return WORD.test(v) ? null : 'is not one word';
    case 'crtlist':
      return crtListProblem(v, files);
    default:
      return null;
  }
}
