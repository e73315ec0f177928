import { isPlainWord } from './haproxyText';

/** File checks the model needs; implemented with the file system outside the pure core (src/model/files.ts). */
export interface FileChecks {
  /** null when `path` is a certificate HAProxy can load for `crt` (PEM with its key), else the reason. */
  certificate(path: string): string | null;
  /** null when `path` is a readable PEM file (CA or CRL), else the reason. */
  pemFile(path: string): string | null;
}

type Arg =
  | 'none'
  | 'int'
  | 'posint'
  | 'time'
  | 'name'
  | 'alpn'
  | 'crt'
  | 'pem'
  | 'threads'
  | 'errors'
  | 'octal'
  | readonly string[];

const INT = /^-?\d{1,9}$/;
const TIME = /^\d{1,9}(us|ms|s|m|h|d)?$/;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const ALPN = /^[A-Za-z0-9._/-]{1,32}(,[A-Za-z0-9._/-]{1,32})*$/;
const SSL_VERSIONS = ['SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
/** A thread or process set: `all`, `odd`, `even`, or numbers and ranges (`1`, `1-4`, `1/2-3`), comma-separated. */
const THREADS = /^(all|odd|even|(\d{1,4}\/)?\d{1,4}(-\d{1,4})?(,(\d{1,4}\/)?\d{1,4}(-\d{1,4})?)*)$/;
/** `ca-ignore-err`/`crt-ignore-err`: `all` or OpenSSL error ids. */
const ERRORS = /^(all|\d{1,6}(,\d{1,6})*)$/;
const OCTAL = /^[0-7]{1,4}$/;

/**
 * HAProxy 2.6's `bind` keywords (configuration.txt §5.1) a label may use on a TCP listener, with
 * the argument each takes. HAProxy accepts the UNIX-socket and stats-socket ones (mode, uid,
 * user, level, ...) on a TCP listener too, and ignores them there: so do these. Left out on
 * purpose: ones whose value only OpenSSL or the host can judge (ciphers, curves, ecdhe,
 * namespace, proto, crt-list, ca-sign-*, expose-fd), which belong in the operator's templates
 * rather than in an app's label.
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
  ['mss', 'int'],
  ['id', 'posint'],
  ['tcp-ut', 'time'],
  ['name', 'name'],
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
  ['nice', 'int'],
  ['thread', 'threads'],
  ['process', 'threads'],
  ['ca-ignore-err', 'errors'],
  ['crt-ignore-err', 'errors'],
  ['severity-output', ['none', 'number', 'string']],
  ['level', ['user', 'operator', 'admin']],
  ['uid', 'int'],
  ['gid', 'int'],
  ['user', 'name'],
  ['group', 'name'],
  ['mode', 'octal'],
]);

/** Words of HAProxy's line, at most: 64; the bind line's own words leave this many to a label. */
const MAX_WORDS = 48;

/** null when `text` (HAPROXY_{n}_BIND_OPTIONS) is a list of bind keywords HAProxy accepts, else the reason. */
export function checkBindOptions(text: string, files: FileChecks | undefined, hasCert: boolean): string | null {
  const words = text.split(/[ \t]+/).filter((w) => w !== '');
  if (words.length > MAX_WORDS) return `has more than ${MAX_WORDS} words`;
  let ssl = false;
  let crt = hasCert;
  let caFile = false;
  let verify = 'none';
  for (let i = 0; i < words.length; i++) {
    const kw = words[i]!;
    if (!isPlainWord(kw))
      return `${JSON.stringify(kw)} is not a plain word (no quotes, backslashes, # or control characters)`;
    const arg = KEYWORDS.get(kw);
    if (arg === undefined) return `unknown or unsupported bind keyword ${JSON.stringify(kw)}`;
    if (kw === 'ssl') ssl = true;
    if (arg === 'none') continue;
    const v = words[++i];
    if (v === undefined) return `bind keyword ${kw} needs a value`;
    const bad = checkArg(arg, v, files);
    if (bad !== null) return `bind keyword ${kw}: ${bad}`;
    if (kw === 'crt') crt = true;
    if (kw === 'ca-file') caFile = true;
    if (kw === 'verify') verify = v;
  }
  if (ssl && !crt) return '"ssl" needs a certificate (crt, or the HAPROXY_{n}_SSL_CERT label)';
  if (verify !== 'none' && !caFile) return `"verify ${verify}" needs a ca-file`;
  return null;
}

function checkArg(arg: Exclude<Arg, 'none'>, v: string, files: FileChecks | undefined): string | null {
  if (!isPlainWord(v)) return `${JSON.stringify(v)} is not a plain word`;
  if (Array.isArray(arg)) return arg.includes(v) ? null : `${JSON.stringify(v)} is not one of ${arg.join(', ')}`;
  switch (arg) {
    case 'int':
      return INT.test(v) ? null : `${JSON.stringify(v)} is not an integer`;
    case 'posint':
      return INT.test(v) && Number(v) > 0 ? null : `${JSON.stringify(v)} is not a positive integer`;
    case 'time':
      return TIME.test(v) ? null : `${JSON.stringify(v)} is not a duration`;
    case 'name':
      return NAME.test(v) ? null : `${JSON.stringify(v)} is not a name`;
    case 'alpn':
      return ALPN.test(v) ? null : `${JSON.stringify(v)} is not a comma-separated protocol list`;
    case 'crt':
      return files === undefined ? null : files.certificate(v);
    case 'pem':
      return files === undefined ? null : files.pemFile(v);
    case 'threads':
      return THREADS.test(v) ? null : `${JSON.stringify(v)} is not a thread set (all, odd, even, 1, 1-4, 1/2, ...)`;
    case 'errors':
      return ERRORS.test(v) ? null : `${JSON.stringify(v)} is not "all" or a comma-separated list of error ids`;
    case 'octal':
      return OCTAL.test(v) ? null : `${JSON.stringify(v)} is not an octal mode`;
    default:
      return null;
  }
}
