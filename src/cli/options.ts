/**
 * The options marathon-lb runs with, declared once: OPTION_FLAGS has one entry per command-line flag
 * (--help and --longhelp only print, so they have none), keyed by its readonly camelCase Options field.
 * The Options type, DEFAULT_OPTIONS and FLAGS (what the parser in ./args.ts reads) are derived from it.
 * Durations are in seconds; defaults are upstream marathon_lb.py v1.15's where the flag is upstream's.
 */

export const LOG_LEVELS = ['CRITICAL', 'ERROR', 'WARNING', 'INFO', 'DEBUG', 'NOTSET'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type HelpGroup =
  | 'Marathon'
  | 'Authentication'
  | 'HAProxy'
  | 'Routing'
  | 'Service behaviour'
  | 'Logging'
  | 'Admin'
  | 'Rendering without Marathon';

/**
 * How a flag's text becomes a value:
 * boolean; string (has a default); optional (string or undefined); list (nargs "+", env split on
 * commas/whitespace); append (repeatable, env split likewise); integer / number with bounds;
 * logLevel (one of LOG_LEVELS, any case); logFormat ("json" or a Python logging format).
 */
export type FlagKind =
  'boolean' | 'string' | 'optional' | 'list' | 'append' | 'integer' | 'number' | 'logLevel' | 'logFormat';

/** The value each kind of flag parses to. */
interface KindValue {
  boolean: boolean;
  string: string;
  optional: string | undefined;
  list: readonly string[];
  append: readonly string[];
  integer: number;
  number: number;
  logLevel: LogLevel;
  logFormat: string;
}

interface FlagExtra {
  /** Short form, e.g. 'm' for -m. */
  readonly alias?: string;
  readonly min?: number;
  readonly max?: number;
  /** Lower bound is exclusive (value must be > min). */
  readonly minExclusive?: boolean;
  /** Read when neither the flag nor MLB_<FLAG> is set (upstream's env defaults). */
  readonly fallbackEnv?: string;
  /** A duration in seconds that a timer waits: at most MAX_TIMER_SECONDS. */
  readonly seconds?: boolean;
}

/** One row of OPTION_FLAGS; D is the default's type (undefined makes the option optional). */
interface FlagDef<K extends FlagKind, D> extends FlagExtra {
  /** The long flag, kebab-case of the Options key. */
  readonly flag: string;
  readonly kind: K;
  readonly default: D;
  readonly group: HelpGroup;
  /** --help text (the env var name is added by the parser). */
  readonly describe: string;
}

const def = <K extends FlagKind, D extends KindValue[K] | undefined>(
  flag: string,
  kind: K,
  dflt: D,
  group: HelpGroup,
  describe: string,
  extra: FlagExtra = {},
): FlagDef<K, D> => ({ flag, kind, default: dflt, group, describe, ...extra });

const PORT = { min: 0, max: 65535 } as const;
const POSITIVE = { min: 0, minExclusive: true } as const;

/**
 * The longest a timer waits: Node.js (and HAProxy, for hard-stop-after) hold 2^31-1 ms, about 24.8
 * days. Node fires a longer timer after 1 ms instead: a 35-day --resync-interval re-read Marathon
 * ~700 times a second.
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
/** The bound as messages name it. */
export const MAX_TIMER_TEXT = `${MAX_TIMER_SECONDS} seconds (about 24.8 days, the longest a timer waits)`;
const SECONDS = { min: 0, seconds: true } as const;
const POSITIVE_SECONDS = { ...POSITIVE, seconds: true } as const;

const DEFAULT_SYSLOG_SOCKET = process.platform === 'darwin' ? '/var/run/syslog' : '/dev/log';
const DEFAULT_LOG_FORMAT = '%(asctime)-15s %(name)s: %(message)s';

/** Every flag, in --help order within its group. `group` defaults to empty: the CLI requires at least one. */
const OPTION_FLAGS = {
  // Marathon
  /** --marathon/-m: Marathon endpoints, tried in order. */
  marathon: def(
    'marathon',
    'list',
    ['http://master.mesos:8080'],
    'Marathon',
    'Marathon endpoint(s), eg. -m http://marathon1:8080 http://marathon2:8080',
    { alias: 'm' },
  ),
  /** --sse/-s: follow Marathon's event stream instead of polling once. */
  sse: def('sse', 'boolean', false, 'Marathon', 'Use Server Sent Events', { alias: 's' }),
  /** --health-check/-H: respect Marathon health check results. */
  healthCheck: def(
    'health-check',
    'boolean',
    false,
    'Marathon',
    "If set, respect Marathon's health check statuses before adding the app instance into the backend pool.",
    { alias: 'H' },
  ),
  /** --respect-readiness-checks: tasks whose Marathon readiness checks have not passed get no traffic (Traefik's respectReadinessChecks). */
  respectReadinessChecks: def(
    'respect-readiness-checks',
    'boolean',
    false,
    'Marathon',
    'Keep a task out of HAProxy until its Marathon readiness checks pass (readinessCheckResults during a deployment); ' +
      'marathon-lb ignores readiness',
  ),
  /** --sse-idle-timeout: reconnect when the event stream is silent this long (s). */
  sseIdleTimeout: def(
    'sse-idle-timeout',
    'number',
    60,
    'Marathon',
    'Seconds without any event or keep-alive after which the event stream is reconnected',
    POSITIVE_SECONDS,
  ),
  /** --request-timeout: marathon-lb's read timeout: longest silence of Marathon within one REST request (s). */
  requestTimeout: def(
    'request-timeout',
    'number',
    46,
    'Marathon',
    'Seconds Marathon may stay silent in a REST request, before its answer or between two parts of it ' +
      "(marathon-lb's read timeout; a slow but flowing answer is not cut); also bounds task-host name lookups",
    POSITIVE_SECONDS,
  ),
  /** --connect-timeout: marathon-lb's connect timeout to Marathon (s). */
  connectTimeout: def(
    'connect-timeout',
    'number',
    3.05,
    'Marathon',
    "Seconds to connect to Marathon (marathon-lb's connect timeout)",
    POSITIVE_SECONDS,
  ),
  /** --sse-max-event-bytes: a longer event-stream line or event is an error and the stream reconnects. */
  sseMaxEventBytes: def(
    'sse-max-event-bytes',
    'integer',
    16 * 1024 * 1024,
    'Marathon',
    'Longest event-stream line or event accepted (bytes); a longer one is logged and the stream reconnects',
    { min: 1 },
  ),
  /** --marathon-insecure: skip TLS certificate verification towards Marathon. */
  marathonInsecure: def(
    'marathon-insecure',
    'boolean',
    false,
    'Marathon',
    'Skip TLS certificate verification for Marathon (logs a warning)',
  ),

  // Authentication
  marathonAuthCredentialFile: def(
    'marathon-auth-credential-file',
    'optional',
    undefined,
    'Authentication',
    "Path to file containing a user/pass for the Marathon HTTP API in the format of 'user:pass'.",
  ),
  authCredentials: def(
    'auth-credentials',
    'optional',
    undefined,
    'Authentication',
    "user/pass for the Marathon HTTP API in the format of 'user:pass'.",
  ),
  /** --dcos-auth-credentials (falls back to $DCOS_SERVICE_ACCOUNT_CREDENTIAL like upstream). */
  dcosAuthCredentials: def(
    'dcos-auth-credentials',
    'optional',
    undefined,
    'Authentication',
    'DC/OS service account credentials (default: $DCOS_SERVICE_ACCOUNT_CREDENTIAL)',
    { fallbackEnv: 'DCOS_SERVICE_ACCOUNT_CREDENTIAL' },
  ),
  marathonCaCert: def(
    'marathon-ca-cert',
    'optional',
    undefined,
    'Authentication',
    'CA certificate for Marathon HTTPS connections',
  ),

  // HAProxy
  haproxyConfig: def(
    'haproxy-config',
    'string',
    '/etc/haproxy/haproxy.cfg',
    'HAProxy',
    'Location of haproxy configuration',
  ),
  /** --command/-c: HAProxy is run by someone else; write, validate, then run this command to reload it (see haproxy/command.ts). */
  command: def('command', 'optional', undefined, 'HAProxy', 'If set, run this command to reload haproxy.', {
    alias: 'c',
  }),
  haproxyBin: def(
    'haproxy-bin',
    'string',
    'haproxy',
    'HAProxy',
    'HAProxy executable used to validate and run the config',
  ),
  haproxyMasterSocket: def(
    'haproxy-master-socket',
    'string',
    '/var/run/haproxy/master.sock',
    'HAProxy',
    'Master CLI socket of the master-worker HAProxy (used to reload)',
  ),
  haproxyPidFile: def(
    'haproxy-pid-file',
    'string',
    '/var/run/haproxy.pid',
    'HAProxy',
    'Pid file of the HAProxy master',
  ),
  /** --haproxy-attach: use an already running master-worker HAProxy instead of starting one. */
  haproxyAttach: def(
    'haproxy-attach',
    'boolean',
    false,
    'HAProxy',
    'Attach to an already running master-worker HAProxy instead of starting one',
  ),
  /** --leave-haproxy-running: on SIGTERM/SIGINT, leave HAProxy serving for the next controller to adopt. */
  leaveHaproxyRunning: def(
    'leave-haproxy-running',
    'boolean',
    false,
    'HAProxy',
    'On SIGTERM/SIGINT leave HAProxy serving; the next controller started with the same master socket adopts it',
  ),
  /** --shutdown-timeout: after SIGTERM/SIGINT the process exits within this many seconds, whatever is under way. */
  shutdownTimeout: def(
    'shutdown-timeout',
    'number',
    30,
    'HAProxy',
    'Seconds after SIGTERM/SIGINT within which the process exits, whatever is under way (HAProxy is killed if still stopping)',
    POSITIVE_SECONDS,
  ),
  /** --hard-stop-after: upper bound on how long old workers live after a reload (s); undefined: the config's longest client/server/tunnel timeout, at least 30 s. */
  hardStopAfter: def(
    'hard-stop-after',
    'number',
    undefined,
    'HAProxy',
    'Seconds old HAProxy workers may live after a reload to finish their connections ' +
      "(default: the config's longest timeout client/server/tunnel, at least 30; marathon-lb's head gives 3600)",
    POSITIVE_SECONDS,
  ),
  /** --max-old-workers: a worker that survived more reloads than this is stopped (HAProxy's mworker-max-reloads); 0: no bound. */
  maxOldWorkers: def(
    'max-old-workers',
    'integer',
    10,
    'HAProxy',
    'Old HAProxy workers allowed to linger: a worker that survived more reloads than this is stopped ' +
      "(HAProxy's mworker-max-reloads; 0: only hard-stop-after bounds them)",
    { min: 0 },
  ),
  sslCerts: def(
    'ssl-certs',
    'string',
    '/etc/ssl/cert.pem',
    'HAProxy',
    'List of SSL certificates separated by comma for frontend marathon_https_in. ' +
      'Ex: /etc/ssl/site1.co.pem,/etc/ssl/site2.co.pem',
  ),
  skipValidation: def('skip-validation', 'boolean', false, 'HAProxy', 'Skip haproxy config file validation'),
  skipConfigCleanup: def(
    'skip-config-cleanup',
    'boolean',
    false,
    'HAProxy',
    "If one app fails, don't try to make configuration valid by removing apps one by one",
  ),
  luaDir: def('lua-dir', 'string', '/marathon-lb', 'HAProxy', 'Directory the generated lua-load lines point at'),
  templatesDir: def(
    'templates-dir',
    'string',
    'templates',
    'HAProxy',
    'Directory with template override files named after the template (HAPROXY_HEAD, ...)',
  ),
  /** --haproxy-version MAJOR.MINOR: the HAProxy the config is written for; undefined: the version of --haproxy-bin, else 2.6. */
  haproxyVersion: def(
    'haproxy-version',
    'optional',
    undefined,
    'HAProxy',
    'HAProxy version the config is written for, MAJOR.MINOR (default: the version of --haproxy-bin, else 2.6). ' +
      'From 2.1 on, directives HAProxy removed (reqadd, rspadd, reqrep, ...) are translated to http-request/http-response rules; ' +
      "2.0 prints marathon-lb's text as is",
  ),

  // Routing
  group: def(
    'group',
    'append',
    [],
    'Routing',
    "[required] Only generate config for apps which list the specified names. Use '*' to match all " +
      'groups, including those without a group specified. Repeat for several groups.',
  ),
  strictMode: def(
    'strict-mode',
    'boolean',
    false,
    'Routing',
    'If set, backends are only advertised if HAPROXY_{n}_ENABLED=true.',
  ),
  /** --refuse-app-templates: leave out apps carrying per-app template labels (HAPROXY_{n}_<TEMPLATE>). */
  refuseAppTemplates: def(
    'refuse-app-templates',
    'boolean',
    false,
    'Routing',
    'Leave out apps carrying per-app template labels (HAPROXY_{n}_<TEMPLATE>), which are raw HAProxy text; ' +
      'for clusters where app owners are not trusted.',
  ),
  haproxyMap: def('haproxy-map', 'boolean', false, 'Routing', 'Use HAProxy maps for domain name to backend mapping.'),
  dontBindHttpHttps: def(
    'dont-bind-http-https',
    'boolean',
    false,
    'Routing',
    "Don't bind to HTTP and HTTPS frontends.",
  ),
  groupHttpsByVhost: def('group-https-by-vhost', 'boolean', false, 'Routing', 'Group https frontends by vhost.'),
  /** 0 together with maxServPortIpPerTask 0 disables service-port auto assignment. */
  minServPortIpPerTask: def(
    'min-serv-port-ip-per-task',
    'integer',
    10050,
    'Routing',
    'Minimum port number to use when auto-assigning service ports for IP-per-task applications',
    PORT,
  ),
  maxServPortIpPerTask: def(
    'max-serv-port-ip-per-task',
    'integer',
    10100,
    'Routing',
    'Maximum port number to use when auto-assigning service ports for IP-per-task applications ' +
      '(set both to 0 to disable auto assignment)',
    PORT,
  ),

  // Service behaviour
  /** -1 retries forever, 0 disables retries. */
  maxReloadRetries: def(
    'max-reload-retries',
    'integer',
    10,
    'Service behaviour',
    'Max reload retries before failure (--command runs, or master-socket reloads that are not confirmed). Reloads happen every --reload-interval seconds. ' +
      'Set to 0 to disable or -1 for infinite retries.',
    { min: -1 },
  ),
  reloadInterval: def(
    'reload-interval',
    'integer',
    10,
    'Service behaviour',
    'Wait this number of seconds between reload retries.',
    SECONDS,
  ),
  maxBackoff: def(
    'max-backoff',
    'integer',
    300,
    'Service behaviour',
    'Maximum backoff in seconds between retries after failures',
    POSITIVE_SECONDS,
  ),
  archiveVersions: def('archive-versions', 'integer', 5, 'Service behaviour', 'Number of config versions to archive', {
    min: 0,
  }),
  lruCacheCapacity: def(
    'lru-cache-capacity',
    'integer',
    1000,
    'Service behaviour',
    'LRU cache size (in number of items). This should be at least as large as the number of tasks ' +
      'exposed via marathon-lb.',
    POSITIVE,
  ),
  debounceQuiet: def(
    'debounce-quiet',
    'number',
    0.5,
    'Service behaviour',
    'Seconds without new events before a burst of changes is applied',
    SECONDS,
  ),
  /** --fast-path (on by default; --no-fast-path: snapshots only): task and health events of known apps go to HAProxy's runtime API at once, before the snapshot. */
  fastPath: def(
    'fast-path',
    'boolean',
    true,
    'Service behaviour',
    'Apply task and health events of known apps through the runtime API at once, before the debounced snapshot ' +
      '(which still comes and corrects any difference); --no-fast-path waits for snapshots only',
  ),
  debounceMaxWait: def(
    'debounce-max-wait',
    'number',
    5,
    'Service behaviour',
    'Longest a change waits while events keep arriving (seconds)',
    POSITIVE_SECONDS,
  ),
  /** 0 disables the periodic full resync. */
  resyncInterval: def(
    'resync-interval',
    'number',
    300,
    'Service behaviour',
    'Seconds between full re-reads of Marathon apps (0 disables)',
    SECONDS,
  ),
  /** --max-apply-age: /healthz answers 503 once a known Marathon change has waited this long to be applied (s; 0 disables). */
  maxApplyAge: def(
    'max-apply-age',
    'number',
    300,
    'Service behaviour',
    'Seconds a known Marathon change (event, SIGHUP, startup, a differing snapshot) may wait to be applied ' +
      'before /healthz answers 503 (0 disables)',
    SECONDS,
  ),
  /** --stale-after: /status and the dashboard call routing stale once the event stream is down, or Marathon reads fail, this long (s). */
  staleAfter: def(
    'stale-after',
    'number',
    60,
    'Service behaviour',
    'Seconds the Marathon event stream may be down, or reads of Marathon fail or last, before /status and the dashboard ' +
      'call routing stale (/healthz is not affected)',
    POSITIVE_SECONDS,
  ),
  /** --haproxy-stats-interval: seconds between reads of HAProxy's `show stat` for /status and /metrics (0 disables). */
  haproxyStatsInterval: def(
    'haproxy-stats-interval',
    'number',
    2,
    'Service behaviour',
    "Seconds between reads of HAProxy's server states and traffic (show stat) for /status, /metrics and the dashboard (0 disables); a big config is read at most 2 500 rows a second",
    SECONDS,
  ),

  // Logging
  syslogSocket: def(
    'syslog-socket',
    'string',
    DEFAULT_SYSLOG_SOCKET,
    'Logging',
    "Socket to write syslog messages to. Use '/dev/null' to disable logging to syslog",
  ),
  /** A Python logging format string, or "json". */
  logFormat: def(
    'log-format',
    'logFormat',
    DEFAULT_LOG_FORMAT,
    'Logging',
    'Set log message format, or "json" for JSON lines',
  ),
  logLevel: def('log-level', 'logLevel', 'DEBUG', 'Logging', `Set log level (${LOG_LEVELS.join(', ')})`),

  // Admin
  adminBind: def('admin-bind', 'string', '127.0.0.1', 'Admin', 'Address of the admin HTTP server'),
  /** 0 disables the admin HTTP server. */
  adminPort: def('admin-port', 'integer', 9191, 'Admin', 'Port of the admin HTTP server (0 disables it)', PORT),
  adminToken: def(
    'admin-token',
    'optional',
    undefined,
    'Admin',
    'If set, admin requests must carry "Authorization: Bearer <token>" (prefer the env var to the flag)',
  ),

  // Rendering without Marathon
  dry: def(
    'dry',
    'boolean',
    false,
    'Rendering without Marathon',
    'Only print configuration to console (with --haproxy-map, the two map files are written beside --haproxy-config; without it, existing ones are emptied, as marathon-lb does)',
    {
      alias: 'd',
    },
  ),
  /** A /v2/apps?embed=apps.tasks JSON file, "-" for stdin; only with --dry. */
  appsFile: def(
    'apps-file',
    'optional',
    undefined,
    'Rendering without Marathon',
    'With --dry: render from this /v2/apps?embed=apps.tasks JSON file, plain or gzip-compressed ("-" for stdin), instead of Marathon',
  ),
};

type OptionFlags = typeof OPTION_FLAGS;

/** A flag's option value: its kind's value, or undefined too when it has no default. */
type ValueOf<F> =
  F extends FlagDef<infer K, infer D> ? KindValue[K] | (undefined extends D ? undefined : never) : never;

/** One readonly field per flag; the docs on OPTION_FLAGS' entries show on these fields. */
export type Options = { readonly [P in keyof OptionFlags]: ValueOf<OptionFlags[P]> };

/** A flag as the parser sees it: its row plus the Options field it sets. */
export interface FlagSpec extends FlagDef<FlagKind, unknown> {
  readonly key: keyof Options;
}

export const FLAGS: readonly FlagSpec[] = (Object.keys(OPTION_FLAGS) as (keyof Options)[]).map((key): FlagSpec => ({
  key,
  ...OPTION_FLAGS[key],
}));

/** Every flag's default, frozen (lists too). */
export const DEFAULT_OPTIONS: Options = Object.freeze(
  Object.fromEntries(
    FLAGS.map((s) => [
      s.key,
      Array.isArray(s.default) ? Object.freeze([...(s.default as readonly unknown[])]) : s.default,
    ]),
  ),
) as Options;

/** The environment variable that sets a flag: MLB_ + upper-case name, dashes as underscores. */
export function envName(flag: string): string {
  return 'MLB_' + flag.toUpperCase().replace(/-/g, '_');
}
