import { pythonInt, pythonIntNear } from './pythonInt';
import { TEMPLATE_LABEL_NAMES } from '../templates/catalog';
import { checkBindOptions, type FileChecks } from './bindOptions';
import {
  configText,
  aclNetworkHost,
  isAddressOrNetwork,
  isOperatorWord,
  bindAddressWord,
  isBindAddress,
  isHostName,
  isPlainWord,
  readsAsNoPassword,
  isVhost,
  splitWords,
} from './haproxyText';
import { LOOKUP_PENDING } from './networking';
import { pathProblem } from './pathAcl';
import { regexProblem } from './pcreSubset';
import { appTemplateText, unreadableFileIn, type OwnAddresses } from './templateLabels';
import type { Mode, Problem } from './types';

/** What the `HAPROXY_{n}_*` labels of one service port say, before tasks are attached. */
export interface PortSettings {
  readonly hostname: string | null;
  readonly path: string | null;
  readonly auth: { readonly realm: string; readonly user: string; readonly passwd: string } | null;
  readonly sticky: boolean;
  readonly enabled: boolean | null;
  readonly redirectHttpToHttps: boolean;
  readonly useHsts: boolean;
  readonly sslCert: string | null;
  readonly bindOptions: string | null;
  readonly bindAddr: string;
  readonly port: number | null;
  readonly mode: Mode | null;
  readonly balance: string;
  readonly groups: readonly string[];
  readonly proxyPath: string | null;
  readonly revProxyPath: string | null;
  readonly redirPath: string | null;
  readonly backendWeight: number;
  readonly networkAllowed: string | null;
  readonly healthcheckPortIndex: number | null;
  readonly templateLabels: Readonly<Record<string, string>>;
}

/**
 * Whether a log-format word holds a sample expression `%[...]` or `%{flags}[...]`; `%%` is a literal
 * `%` there, so `%%[` is text. A scan, not a regular expression: `(?:\{[^}]*\})?` read the rest of
 * the word again from every `%{`, and 250 000 of them held the controller for 71 s (an audit).
 */
export function holdsSampleExpression(word: string): boolean {
  let closing = -2; // the next `}` at or after the last `%{` looked at; -1: none left
  for (let i = word.indexOf('%'); i >= 0; i = word.indexOf('%', i)) {
    let run = 0;
    for (; word[i] === '%'; i++) run++;
    if (run % 2 === 0) continue;
    if (word[i] === '[') return true;
    if (word[i] !== '{') continue;
    if (closing !== -1 && closing < i) closing = word.indexOf('}', i);
    if (closing === -1) continue;
    if (word[closing + 1] === '[') return true;
  }
  return false;
}
const TRUE_WORDS: ReadonlySet<string> = new Set(['true', 't', 'yes', 'y']);
const truthy = (v: string): boolean => v !== '' && TRUE_WORDS.has(v.toLowerCase());
/**
 * A BALANCE label as the words HAProxy reads (its blanks are C's isspace), which are what is printed:
 * no CR or line break from the label reaches the config. Blanks around it end nothing (`leastconn `
 * and `source\r\n` are leastconn and source), those within separate words (`uri\rwhole`). A line
 * break within it is left in, so the algorithm is unknown; so is any other space (a no-break one).
 */
function balanceWords(label: string): string {
  return label.replace(/^[ \t\r\n\v\f]+|[ \t\r\n\v\f]+$/g, '').replace(/[ \t\r\v\f]+/g, ' ');
}
/**
 * Whether HAProxy takes `balance <words>` (its backend_parse_balance, 2.6), no stricter: no word is
 * roundrobin, the simple algorithms ignore words after them, `random`, `hdr(` and `rdp-cookie` are read
 * by their start. A quote, backslash or `#` would make HAProxy read other words than these (a quoted
 * `${VAR}` its environment), and a line break another line: left out. So is HAProxy 2.6's `hash
 * <expression>`: whether its fetches and converters exist only `haproxy -c` can tell, and a balance
 * served is one HAProxy takes (HAPROXY_{n}_BACKEND_HEAD can hold it, checked so).
 */
function balanceAccepted(words: string): boolean {
  if (/["'\\#\n]/.test(words)) return false;
  const [algo = '', ...args] = words === '' ? [] : words.split(' ');
  if (algo === '' || SIMPLE_BALANCE.has(algo)) return true;
  if (algo.startsWith('random')) return algo[6] !== '(' || algo[7] === ')' || DRAWS.test(algo.slice(6));
  if (algo === 'uri') {
    for (let i = 0; i < args.length; i++) {
      if (args[i] === 'whole' || args[i] === 'path-only') continue;
      if ((args[i] !== 'len' && args[i] !== 'depth') || !POSITIVE_ATOI.test(args[++i] ?? '')) return false;
    }
    return true;
  }
  if (algo === 'url_param') return args.length > 0 && (args.length === 1 || args[1] === 'check_post');
  if (algo.startsWith('hdr(')) return algo.indexOf(')', 4) > 4 && (args.length === 0 || args[0] === 'use_domain_only');
  if (algo.startsWith('rdp-cookie')) return algo[10] !== '(' || algo.indexOf(')', 11) > 11;
  return false;
}
const SIMPLE_BALANCE: ReadonlySet<string> = new Set(['roundrobin', 'static-rr', 'first', 'leastconn', 'source']);
/** `random(<draws>)` as strtol reads the number (base 0: hex, octal, decimal), at least 1. */
const DRAWS = /^\(\+?(0[xX]0*[1-9a-fA-F][0-9a-fA-F]{0,6}|0+[1-7][0-7]{0,9}|[1-9]\d{0,8})\)/;
/** What atoi reads as a positive int: digits from the start (more may follow), not all zeros. */
const POSITIVE_ATOI = /^\+?0*[1-9]\d{0,8}(?!\d)/;

/** A path prefix for the removed reqirep/rspirep glue: printed inside a double-quoted regex. */
const URL_PATH = /^\/[A-Za-z0-9/._~!&'*+,;=:@%-]*$/;
/** URL path characters (RFC 3986) but `$` (HAProxy's environment in double quotes) and `(`, `)` (the regex's groups). */
const NOT_URL_PATH = `must be a URL path (/ then letters, digits and "/._~!&'*+,;=:@%-")`;
/**
 * REVPROXY_PATH is only printed as the replacement of the Location rewrite, where `\3` is the path
 * the task sent: `/grafana\3` keeps it (marathon-lb issue #471's workaround), so a `\` before a
 * digit is a back-reference there, which HAProxy takes.
 */
const REPLACEMENT_PATH = /^\/(?:[A-Za-z0-9/._~!&'*+,;=:@%-]|\\[0-9])*$/;
const SPACES = /[ \t]+/;
/** Words on one HAProxy line, at most (MAX_LINE_ARGS); a multi-word label leaves room for the template's words. */
const MAX_LINE_WORDS = 64;
/**
 * The most words a label printed as several may hold: HAProxy's 64 a line less the other words of
 * the line its default template (config/templates) prints it on.
 */
const MAX_LABEL_WORDS: Readonly<Record<'PATH' | 'HTTP_BACKEND_REDIR', number>> = {
  PATH: MAX_LINE_WORDS - 3, // acl path_{backend} path_beg {path}
  HTTP_BACKEND_REDIR: MAX_LINE_WORDS - 7, // redirect code 301 location {redirpath} if is_domain is_root
};

/** What reading a port's labels needs beyond the labels. */
export interface LabelChecks {
  /** Files named by SSL_CERT and BIND_OPTIONS; without it they are not checked. */
  readonly files?: FileChecks | undefined;
  /** Certificates the operator configured (--ssl-certs): the :443 frontend needs them anyway, so labels naming them are not checked again. */
  readonly operatorCerts?: ReadonlySet<string> | undefined;
  /** Host names HAProxy will have to resolve at start-up (BIND_ADDR, template labels' servers); without it they are not looked up. */
  readonly resolve?: ((host: string) => string | undefined) | undefined;
  /** The load balancer's own addresses: a template label's server at one is refused, as at the loopback. */
  readonly own?: OwnAddresses | undefined;
  /** --refuse-app-templates: a `HAPROXY_{n}_<TEMPLATE>` label leaves the port out. */
  readonly refuseTemplates?: boolean | undefined;
}

/**
 * Why a label's host name, which HAProxy resolves when it loads the config, is refused: it does not
 * resolve, or it has not been looked up yet (HostResolver: then HAProxy's own lookup would be the
 * only one); null when it resolves, or when names are not looked up (no `resolve`).
 */
function unresolvedName(host: string, resolve: LabelChecks['resolve']): string | null {
  const address = resolve?.(host);
  if (resolve === undefined || (address !== undefined && address !== LOOKUP_PENDING)) return null;
  return address === LOOKUP_PENDING
    ? 'has not answered its lookup yet (HAProxy resolves it when it loads the config): served once it does'
    : 'does not resolve (HAProxy resolves it when it loads the config)';
}

/**
 * Reads the labels of service port `index`. A value that would break the generated config, or
 * let it read the environment, yields a Problem naming the label; the caller leaves that service
 * port out and renders everything else. Text fields come back in the form they are printed in
 * (see configText), which is the label itself unless it holds `$` in quotes or an unquoted `#`.
 */
export function readPortLabels(
  appId: string,
  portLabels: ReadonlyMap<string, string>,
  index: number,
  checks: LabelChecks = {},
): PortSettings | Problem {
  const r = new PortLabelReader(appId, portLabels, index);
  const vhost = withoutEmptyHosts(r.get('VHOST'));
  // Blanks are HAProxy's word separators where a host is printed (`hdr(host) -i a b`, `ssl_fc_sni a b`):
  // after a comma (`a.example.com, b.example.com`) or between names, as marathon-lb prints them, each
  // word is one more name that routes here.
  if (vhost !== undefined && vhost !== '') {
    const bad = vhost
      .split(',')
      .flatMap((h) => h.split(SPACES))
      .find((h) => h !== '' && !isVhost(h));
    if (bad !== undefined) return r.bad('VHOST', vhost, vhostProblem(bad));
  }
  const hostname = vhost ?? null;
  const path = r.text('PATH');
  if (isProblem(path)) return path;
  if (path !== null) {
    const why = pathProblem(splitWords(path));
    if (why !== null) return r.bad('PATH', path, why);
  }
  // Blanks around these are HAProxy's word separators where printed (`ssl crt  /x.pem`, `bind  10.0.0.1:80`).
  const sslCert = trimBlanks(r.get('SSL_CERT')) || null;
  if (sslCert !== null) {
    if (!isPlainWord(sslCert))
      return r.bad('SSL_CERT', sslCert, 'must be a file name without spaces, quotes, backslashes or #');
    const unreadable =
      checks.operatorCerts?.has(sslCert) === true ? null : (checks.files?.certificate(sslCert) ?? null);
    if (unreadable !== null) return r.problem('SSL_CERT', unreadable);
  }
  const bindAddr = trimBlanks(r.get('BIND_ADDR')) ?? null;
  // Printed as it is; HAProxy reads its word, quotes taken out (`"127.0.0.1"`), as marathon-lb serves it.
  const address = bindAddr === null ? null : bindAddressWord(bindAddr);
  // An empty one is every address (`bind :10001`, `bind "":10001`), as marathon-lb prints it.
  if (bindAddr !== null && address !== '' && (address === null || !isBindAddress(address)))
    return r.bad(
      'BIND_ADDR',
      bindAddr,
      'must be *, an IPv4 or IPv6 address (each may follow ipv4@, ipv6@), or a host name',
    );
  if (bindAddr !== null && address !== null && isHostName(address)) {
    const why = unresolvedName(address, checks.resolve);
    if (why !== null) return r.bad('BIND_ADDR', bindAddr, why);
  }
  // A YAML block (`|`) ends a label with a line break: printed last on the bind line, it ends that line.
  const bindOptions = r.get('BIND_OPTIONS')?.replace(/^[ \t]+|[ \t\r\n]+$/g, '') || null;
  if (bindOptions !== null) {
    const why = checkBindOptions(bindOptions, checks.files, sslCert !== null);
    if (why !== null) return r.problem('BIND_OPTIONS', why);
  }
  let networkAllowed = r.get('BACKEND_NETWORK_ALLOWED_ACL') ?? null;
  for (const word of networkAllowed?.split(SPACES) ?? []) {
    if (word === '' || isAddressOrNetwork(word)) continue;
    const host = aclNetworkHost(word);
    if (host === undefined)
      return r.bad(
        'BACKEND_NETWORK_ALLOWED_ACL',
        networkAllowed!,
        'must be IPv4/IPv6 addresses, networks (CIDR; a network written in full: 192.168.0.0/16, not 192.168/16, which HAProxy reads as 192.0.0.168/16) or host names, separated by spaces',
      );
    const why = unresolvedName(host, checks.resolve);
    if (why !== null) return r.bad('BACKEND_NETWORK_ALLOWED_ACL', networkAllowed!, `${host} ${why}`);
  }
  // Only blanks: no ACL would be defined for the allow/deny rules that name it.
  if (networkAllowed !== null && networkAllowed.trim() === '') networkAllowed = null;
  // marathon-lb prints these three in http mode only (a VHOST, or MODE http): on a tcp port they are
  // ignored, so not judged either (a differential fuzz: such a port was left out).
  const httpPort = hostname !== null || trimBlanks(r.get('MODE'))?.toLowerCase() === 'http';
  const proxyPath = httpPort ? (r.get('HTTP_BACKEND_PROXYPASS_PATH') ?? null) : null;
  if (proxyPath !== null && !URL_PATH.test(proxyPath))
    return r.bad('HTTP_BACKEND_PROXYPASS_PATH', proxyPath, NOT_URL_PATH);
  // HTTP_BACKEND_PROXYPASS_GLUE prints the whole VHOST label as the Host header's value: a blank after a
  // comma makes the rest more words, and HAProxy refuses the whole config (found by a differential check).
  if (proxyPath !== null && hostname !== null && /[ \t]/.test(hostname))
    return r.bad(
      'VHOST',
      hostname,
      'is the Host header HAPROXY_{n}_HTTP_BACKEND_PROXYPASS_PATH sets: no blanks (write a.example.com,b.example.com)',
    );
  // Printed into the rewrite's regex (HTTP_BACKEND_PROXYPASS_GLUE): `.`, `*` and `+` act there.
  const proxyRegex = proxyPath === null ? null : regexProblem(`^([^ :]*) ${proxyPath}/?(.*)`);
  if (proxyRegex !== null) return r.bad('HTTP_BACKEND_PROXYPASS_PATH', proxyPath!, `makes a regex that ${proxyRegex}`);
  const revProxyPath = httpPort ? (r.get('HTTP_BACKEND_REVPROXY_PATH') ?? null) : null;
  if (revProxyPath !== null && !REPLACEMENT_PATH.test(revProxyPath))
    return r.bad(
      'HTTP_BACKEND_REVPROXY_PATH',
      revProxyPath,
      `${NOT_URL_PATH.slice(0, -1)}, and \\0 to \\9 for the rewritten Location's groups)`,
    );
  // The vhost is printed into the Location rewrite's regex (HTTP_BACKEND_REVPROXY_GLUE): `*.x` works, `**.x` not.
  const revRegex =
    revProxyPath === null || hostname === null
      ? null
      : regexProblem(`^Location: (https?://${hostname}(:[0-9]+)?)?(/.*)`);
  if (revRegex !== null)
    return r.bad('VHOST', hostname!, `makes the reverse-proxy Location regex one that ${revRegex}`);
  const redirPath = httpPort ? r.text('HTTP_BACKEND_REDIR') : null;
  if (isProblem(redirPath)) return redirPath;
  const redirWords = redirPath === null || redirPath === '' ? null : splitWords(redirPath);
  if (redirWords !== null && redirWords.length !== 1)
    return r.bad('HTTP_BACKEND_REDIR', redirPath!, 'must be one word (the redirect target)');
  // `''` is one word to HAProxy, an empty one: `redirect … location ''` is refused ("missing argument").
  if (redirWords !== null && redirWords[0] === '')
    return r.bad('HTTP_BACKEND_REDIR', redirPath!, 'is an empty word in quotes (HAProxy needs a redirect target)');
  // The target is a log-format string: %[...] (or %{+Q}[...]) would run sample fetches such as env(),
  // reading the environment. Judged as HAProxy reads the word: `%\x5b` is `%[` there.
  if (redirPath !== null && splitWords(redirPath).some(holdsSampleExpression))
    return r.bad(
      'HTTP_BACKEND_REDIR',
      redirPath,
      'must not hold a %[...] expression (it could read the environment with env())',
    );

  const port = r.integer('PORT');
  if (isProblem(port)) return port;
  if (port !== null && (port < 1 || port > 65535)) return r.problem('PORT', `port ${port} is outside 1..65535`);
  const weight = r.integer('BACKEND_WEIGHT', pythonIntNear);
  if (isProblem(weight)) return weight;
  const hcIndex = r.integer('BACKEND_HEALTHCHECK_PORT_INDEX');
  if (isProblem(hcIndex)) return hcIndex;

  const modeLabel = r.get('MODE');
  // Blanks around it are HAProxy's word separators (`mode http ` is http to it): read as that mode.
  const mode = modeLabel === undefined ? null : trimBlanks(modeLabel).toLowerCase();
  if (mode !== null && mode !== 'http' && mode !== 'tcp')
    return r.problem('MODE', `unknown mode ${JSON.stringify(clip(modeLabel!))} (use http or tcp)`);

  const balanceLabel = r.get('BALANCE');
  const balance = balanceLabel === undefined ? 'roundrobin' : balanceWords(balanceLabel);
  // `balance` and its words on one line: HAProxy refuses a line of more than 64 words, whatever they are.
  if (balance.split(' ').length > MAX_LINE_WORDS - 1)
    return r.bad('BALANCE', balanceLabel!, `has more than ${MAX_LINE_WORDS - 1} words (HAProxy reads a line of 64)`);
  if (!balanceAccepted(balance))
    return r.problem('BALANCE', `unknown balance algorithm ${JSON.stringify(clip(balanceLabel!))}`);

  let auth: PortSettings['auth'] = null;
  const authLabel = r.get('AUTH')?.replace(/[ \t\r\n]+$/, '') || undefined; // the password's end, as HAProxy reads it
  if (authLabel !== undefined) {
    const parts = authLabel.split(':');
    const realm = parts.length === 3 && parts[0] !== '' ? configText(parts[0]!, true) : null;
    if (realm !== null && typeof realm !== 'string')
      return r.problem('AUTH', `realm ${JSON.stringify(clip(parts[0]!))} ${realm.error}`);
    if (realm === null || !isPlainWord(parts[1]!) || (!isPlainWord(parts[2]!) && !readsAsNoPassword(parts[2]!))) {
      return r.problem(
        'AUTH',
        'must be realm:user:encrypted-password (three fields; a realm that is not empty, without quotes, line breaks or backslash at its end; no spaces, quotes, backslashes or # in user and password)',
      );
    }
    auth = { realm, user: parts[1]!, passwd: parts[2]! };
  }

  let templateLabels: Record<string, string> = NO_TEMPLATE_LABELS;
  for (const [name, v] of portLabels) {
    if (!TEMPLATE_LABEL_NAMES.has(name)) continue;
    if (checks.refuseTemplates === true)
      return r.problem(name, 'per-app template labels are refused (--refuse-app-templates)');
    const text = appTemplateText(name, v.replace(/\r\n/g, '\n'), undefined, undefined, checks.resolve, checks.own);
    if (typeof text !== 'string') return r.problem(name, text.error);
    const files = checks.files;
    const unreadable =
      files?.loadedFile === undefined
        ? null
        : unreadableFileIn(text, (p, asCrt) => files.loadedFile?.(p, asCrt) ?? null);
    if (unreadable !== null) return r.problem(name, unreadable);
    if (templateLabels === NO_TEMPLATE_LABELS) templateLabels = {};
    templateLabels[name] = text;
  }

  const { enabled, groups } = selectionLabels(r);
  // Upstream applies labels in name order: BACKEND_WEIGHT before PATH, which only lifts a zero weight.
  let backendWeight = weight ?? 0;
  if (path !== null && backendWeight === 0) backendWeight = 1;
  return {
    hostname: hostname === null ? null : hostname.toLowerCase(),
    path,
    auth,
    sticky: truthy(r.get('STICKY') ?? ''),
    enabled,
    redirectHttpToHttps: truthy(r.get('REDIRECT_TO_HTTPS') ?? ''),
    useHsts: truthy(r.get('USE_HSTS') ?? ''),
    sslCert,
    bindOptions,
    bindAddr: bindAddr ?? '*',
    port,
    mode,
    balance,
    groups,
    proxyPath,
    revProxyPath,
    redirPath,
    backendWeight,
    networkAllowed,
    healthcheckPortIndex: hcIndex,
    templateLabels,
  };
}

/**
 * What selects a service port (HAPROXY_{n}_GROUP, HAPROXY_{n}_ENABLED), read from its labels alone:
 * known even when its other labels cannot be read.
 */
export function selectionLabels(portLabels: {
  get(name: string): string | undefined;
}): Pick<PortSettings, 'enabled' | 'groups'> {
  const enabled = portLabels.get('ENABLED');
  const group = portLabels.get('GROUP');
  return {
    enabled: enabled === undefined ? null : truthy(enabled),
    groups: group === undefined ? NO_GROUPS : group.split(','),
  };
}

/** Shared by the many ports without template labels or groups (never changed: PortSettings is read-only). */
const NO_TEMPLATE_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_GROUPS: readonly string[] = Object.freeze([]);

/**
 * The labels of one service port, read and refused by name. One object per port, not a closure per
 * helper: readPortLabels runs for every port of every app of a snapshot.
 */
class PortLabelReader {
  constructor(
    private readonly appId: string,
    private readonly labels: ReadonlyMap<string, string>,
    private readonly index: number,
  ) {}

  get(name: string): string | undefined {
    const v = this.labels.get(name);
    return v === '' && UNSET_WHEN_EMPTY.has(name) ? undefined : v;
  }

  problem(name: string, message: string): Problem {
    return { appId: this.appId, portIndex: this.index, label: `HAPROXY_${this.index}_${name}`, message };
  }

  bad(name: string, v: string, why: string): Problem {
    return this.problem(name, `value ${JSON.stringify(clip(v))} ${why}`);
  }

  /** Text printed where HAProxy reads words, as several words maybe. */
  text(name: keyof typeof MAX_LABEL_WORDS): string | null | Problem {
    const v = this.get(name);
    if (v === undefined) return null;
    const out = configText(v);
    if (typeof out !== 'string') return this.bad(name, v, out.error);
    const most = MAX_LABEL_WORDS[name];
    return out.split(SPACES).length > most
      ? this.bad(
          name,
          v,
          `has more than ${most} words (HAProxy reads ${MAX_LINE_WORDS} a line, the template's own included)`,
        )
      : out;
  }

  integer(name: string, read: (text: string) => number = pythonInt): number | null | Problem {
    const v = this.get(name);
    if (v === undefined) return null;
    const n = read(v);
    return Number.isNaN(n) ? this.bad(name, v, 'is not an integer') : n;
  }
}

/** Labels marathon-lb reads only when they are not empty (`if app.path:`): an empty one is not set. */
const UNSET_WHEN_EMPTY: ReadonlySet<string> = new Set([
  'PATH',
  'SSL_CERT',
  'BIND_OPTIONS',
  'AUTH',
  'HTTP_BACKEND_PROXYPASS_PATH',
  'HTTP_BACKEND_REVPROXY_PATH',
  'HTTP_BACKEND_REDIR',
  'BACKEND_NETWORK_ALLOWED_ACL',
]);

/** Blanks around a word HAProxy reads the same without them. */
function trimBlanks(v: string): string;
function trimBlanks(v: string | undefined): string | undefined;
function trimBlanks(v: string | undefined): string | undefined {
  return v?.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** Long hostile values are cut in messages. */
function clip(v: string): string {
  return v.length > 80 ? `${v.slice(0, 80)}...` : v;
}

const NO_LABELS: ReadonlyMap<string, string> = new Map();
const LINE_BREAK = /[\n\r\u2028\u2029]/;

/**
 * `HAPROXY_<digits>_<name>` (what /^HAPROXY_(\d+)_(.+)$/ matches) → [index, name], or null. Read
 * by hand: every label of every app goes through it, and a match array per label adds up.
 */
function portLabel(key: string): readonly [number, string] | null {
  if (!key.startsWith('HAPROXY_')) return null;
  let i = 8;
  for (let c = key.charCodeAt(i); c >= 48 && c <= 57; c = key.charCodeAt(++i));
  if (i === 8 || key.charCodeAt(i) !== 95 || i + 1 >= key.length) return null;
  // marathon-lb looks up `HAPROXY_{i}_…` for each port i: `HAPROXY_00_VHOST` is no port's label.
  if (key.charCodeAt(8) === 48 && i > 9) return null;
  const name = key.slice(i + 1);
  return LINE_BREAK.test(name) ? null : [Number(key.slice(8, i)), name];
}

/** Splits an app's labels by service port index once: `HAPROXY_1_VHOST` → port 1, `VHOST`. */
export function labelsByPort(labels: Readonly<Record<string, string>>): (index: number) => ReadonlyMap<string, string> {
  let byPort: Map<number, Map<string, string>> | undefined;
  for (const key in labels) {
    const m = portLabel(key);
    if (m === null) continue;
    byPort ??= new Map();
    let port = byPort.get(m[0]);
    if (port === undefined) byPort.set(m[0], (port = new Map<string, string>()));
    port.set(m[1], labels[key]!);
  }
  if (byPort === undefined) return NO_PORT_LABELS; // most apps of a big cluster: no map at all
  const found = byPort;
  return (index) => found.get(index) ?? NO_LABELS;
}

const NO_PORT_LABELS = (): ReadonlyMap<string, string> => NO_LABELS;

export function isProblem(v: unknown): v is Problem {
  return typeof v === 'object' && v !== null && 'message' in v && 'appId' in v;
}

/**
 * A VHOST label without its empty hosts (`a.example.com,`, `a,,b`, `a, `): marathon-lb printed an
 * ACL matching an empty Host and an SNI route for any name for each; the others are served.
 */
function withoutEmptyHosts(vhost: string | undefined): string | undefined {
  if (vhost === undefined || !vhost.includes(',')) return vhost;
  const hosts = vhost.split(',');
  const kept = hosts.filter((h) => trimBlanks(h) !== '');
  return kept.length === hosts.length ? vhost : kept.join(',');
}

/** Why one host of a VHOST label is refused, in the terms its owner can act on. */
function vhostProblem(host: string): string {
  const rule =
    'must be host names separated by commas or blanks (no quotes, backslash, #, $, %, braces or control characters; none starting with "-")';
  if (host.startsWith('-')) return `${rule}: HAProxy reads ${JSON.stringify(clip(host))} as an ACL flag`;
  return isOperatorWord(host) ? `${rule}: HAProxy reads ${JSON.stringify(host)} alone as an operator` : rule;
}
