/**
 * The options marathon-lb runs with: one readonly camelCase field per command-line flag
 * (--help and --longhelp only print, so they have none). Durations are in seconds.
 * DEFAULT_OPTIONS holds the defaults (upstream marathon_lb.py v1.15's where the flag is upstream's);
 * FLAGS describes every flag for the parser in ./args.ts.
 */

export const LOG_LEVELS = ['CRITICAL', 'ERROR', 'WARNING', 'INFO', 'DEBUG', 'NOTSET'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Options {
  // Marathon
  /** --marathon/-m: Marathon endpoints, tried in order. */
  readonly marathon: readonly string[];
  /** --sse/-s: follow Marathon's event stream instead of polling once. */
  readonly sse: boolean;
  /** --health-check/-H: respect Marathon health check results. */
  readonly healthCheck: boolean;
  /** --sse-idle-timeout: reconnect when the event stream is silent this long (s). */
  readonly sseIdleTimeout: number;
  /** --request-timeout: marathon-lb's read timeout: longest silence of Marathon within one REST request (s). */
  readonly requestTimeout: number;
  /** --connect-timeout: marathon-lb's connect timeout to Marathon (s). */
  readonly connectTimeout: number;
  /** --sse-max-event-bytes: a longer event-stream line or event is an error and the stream reconnects. */
  readonly sseMaxEventBytes: number;
  /** --marathon-insecure: skip TLS certificate verification towards Marathon. */
  readonly marathonInsecure: boolean;

  // Authentication
  readonly marathonAuthCredentialFile: string | undefined;
  readonly authCredentials: string | undefined;
  /** --dcos-auth-credentials (falls back to $DCOS_SERVICE_ACCOUNT_CREDENTIAL like upstream). */
  readonly dcosAuthCredentials: string | undefined;
  readonly marathonCaCert: string | undefined;

  // HAProxy
  readonly haproxyConfig: string;
  /** --command/-c: HAProxy is run by someone else; write, validate, then run this command to reload it (see haproxy/command.ts). */
  readonly command: string | undefined;
  readonly haproxyBin: string;
  readonly haproxyMasterSocket: string;
  readonly haproxyPidFile: string;
  /** --haproxy-attach: use an already running master-worker HAProxy instead of starting one. */
  readonly haproxyAttach: boolean;
  /** --hard-stop-after: upper bound on how long old workers live after a reload (s); undefined: the config's longest client/server/tunnel timeout, at least 30 s. */
  readonly hardStopAfter: number | undefined;
  /** --max-old-workers: a worker that survived more reloads than this is stopped (HAProxy's mworker-max-reloads); 0: no bound. */
  readonly maxOldWorkers: number;
  /** --leave-haproxy-running: on SIGTERM/SIGINT, leave HAProxy serving for the next controller to adopt. */
  readonly leaveHaproxyRunning: boolean;
  /** --shutdown-timeout: after SIGTERM/SIGINT the process exits within this many seconds, whatever is under way. */
  readonly shutdownTimeout: number;
  readonly sslCerts: string;
  readonly skipValidation: boolean;
  readonly skipConfigCleanup: boolean;
  readonly luaDir: string;
  readonly templatesDir: string;
  /** --haproxy-version MAJOR.MINOR: the HAProxy the config is written for; undefined: the version of --haproxy-bin, else 2.6. */
  readonly haproxyVersion: string | undefined;

  // Routing
  readonly group: readonly string[];
  readonly strictMode: boolean;
  /** --refuse-app-templates: leave out apps carrying per-app template labels (HAPROXY_{n}_<TEMPLATE>). */
  readonly refuseAppTemplates: boolean;
  readonly haproxyMap: boolean;
  readonly dontBindHttpHttps: boolean;
  readonly groupHttpsByVhost: boolean;
  /** 0 together with maxServPortIpPerTask 0 disables service-port auto assignment. */
  readonly minServPortIpPerTask: number;
  readonly maxServPortIpPerTask: number;

  // Service behaviour
  /** -1 retries forever, 0 disables retries. */
  readonly maxReloadRetries: number;
  readonly reloadInterval: number;
  readonly maxBackoff: number;
  readonly archiveVersions: number;
  readonly lruCacheCapacity: number;
  readonly debounceQuiet: number;
  /** --fast-path (off by default until the chaos suites that assume snapshot-only routing say which path they test): task and health events of known apps go to HAProxy's runtime API at once, before the snapshot. */
  readonly fastPath: boolean;
  readonly debounceMaxWait: number;
  /** 0 disables the periodic full resync. */
  readonly resyncInterval: number;
  /** --max-apply-age: /healthz answers 503 once a known Marathon change has waited this long to be applied (s; 0 disables). */
  readonly maxApplyAge: number;
  /** --stale-after: /status and the dashboard call routing stale once the event stream is down, or Marathon reads fail, this long (s). */
  readonly staleAfter: number;
  /** --haproxy-stats-interval: seconds between reads of HAProxy's `show stat` for /status and /metrics (0 disables). */
  readonly haproxyStatsInterval: number;

  // Logging
  readonly syslogSocket: string;
  /** A Python logging format string, or "json". */
  readonly logFormat: string;
  readonly logLevel: LogLevel;

  // Admin
  readonly adminBind: string;
  /** 0 disables the admin HTTP server. */
  readonly adminPort: number;
  readonly adminToken: string | undefined;

  // Rendering without Marathon
  readonly dry: boolean;
  /** A /v2/apps?embed=apps.tasks JSON file, "-" for stdin; only with --dry. */
  readonly appsFile: string | undefined;
}

export const DEFAULT_SYSLOG_SOCKET = process.platform === 'darwin' ? '/var/run/syslog' : '/dev/log';
export const DEFAULT_LOG_FORMAT = '%(asctime)-15s %(name)s: %(message)s';

/** Upstream's defaults plus this project's. `group` is empty: the CLI requires at least one. */
export const DEFAULT_OPTIONS: Options = Object.freeze({
  marathon: Object.freeze(['http://master.mesos:8080']),
  sse: false,
  healthCheck: false,
  sseIdleTimeout: 60,
  requestTimeout: 46,
  connectTimeout: 3.05,
  sseMaxEventBytes: 16 * 1024 * 1024,
  marathonInsecure: false,
  marathonAuthCredentialFile: undefined,
  authCredentials: undefined,
  dcosAuthCredentials: undefined,
  marathonCaCert: undefined,
  haproxyConfig: '/etc/haproxy/haproxy.cfg',
  command: undefined,
  haproxyBin: 'haproxy',
  haproxyMasterSocket: '/var/run/haproxy/master.sock',
  haproxyPidFile: '/var/run/haproxy.pid',
  haproxyAttach: false,
  hardStopAfter: undefined,
  maxOldWorkers: 10,
  leaveHaproxyRunning: false,
  shutdownTimeout: 30,
  sslCerts: '/etc/ssl/cert.pem',
  skipValidation: false,
  skipConfigCleanup: false,
  luaDir: '/marathon-lb',
  templatesDir: 'templates',
  haproxyVersion: undefined,
  group: Object.freeze([] as string[]),
  strictMode: false,
  refuseAppTemplates: false,
  haproxyMap: false,
  dontBindHttpHttps: false,
  groupHttpsByVhost: false,
  minServPortIpPerTask: 10050,
  maxServPortIpPerTask: 10100,
  maxReloadRetries: 10,
  reloadInterval: 10,
  maxBackoff: 300,
  archiveVersions: 5,
  lruCacheCapacity: 1000,
  debounceQuiet: 0.5,
  fastPath: false,
  debounceMaxWait: 5,
  resyncInterval: 300,
  maxApplyAge: 300,
  staleAfter: 60,
  haproxyStatsInterval: 2,
  syslogSocket: DEFAULT_SYSLOG_SOCKET,
  logFormat: DEFAULT_LOG_FORMAT,
  logLevel: 'DEBUG',
  adminBind: '127.0.0.1',
  adminPort: 9191,
  adminToken: undefined,
  dry: false,
  appsFile: undefined,
});

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
 * logLevel (one of LOG_LEVELS, any case).
 */
export type FlagKind = 'boolean' | 'string' | 'optional' | 'list' | 'append' | 'integer' | 'number' | 'logLevel';

export interface FlagSpec {
  readonly flag: string;
  readonly key: keyof Options;
  readonly kind: FlagKind;
  readonly group: HelpGroup;
  readonly describe: string;
  readonly alias?: string;
  readonly min?: number;
  readonly max?: number;
  /** Lower bound is exclusive (value must be > min). */
  readonly minExclusive?: boolean;
}

const f = (
  flag: string,
  key: keyof Options,
  kind: FlagKind,
  group: HelpGroup,
  describe: string,
  extra: Partial<Pick<FlagSpec, 'alias' | 'min' | 'max' | 'minExclusive'>> = {},
): FlagSpec => ({ flag, key, kind, group, describe, ...extra });

const PORT = { min: 0, max: 65535 } as const;
const POSITIVE = { min: 0, minExclusive: true } as const;

export const FLAGS: readonly FlagSpec[] = [
  f('marathon', 'marathon', 'list', 'Marathon',
    'Marathon endpoint(s), eg. -m http://marathon1:8080 http://marathon2:8080', { alias: 'm' }),
  f('sse', 'sse', 'boolean', 'Marathon', 'Use Server Sent Events', { alias: 's' }),
  f('health-check', 'healthCheck', 'boolean', 'Marathon',
    "If set, respect Marathon's health check statuses before adding the app instance into the backend pool.",
    { alias: 'H' }),
  f('sse-idle-timeout', 'sseIdleTimeout', 'number', 'Marathon',
    'Seconds without any event or keep-alive after which the event stream is reconnected', POSITIVE),
  f('request-timeout', 'requestTimeout', 'number', 'Marathon',
    'Seconds Marathon may stay silent in a REST request, before its answer or between two parts of it '
    + "(marathon-lb's read timeout; a slow but flowing answer is not cut); also bounds task-host name lookups", POSITIVE),
  f('connect-timeout', 'connectTimeout', 'number', 'Marathon',
    "Seconds to connect to Marathon (marathon-lb's connect timeout)", POSITIVE),
  f('sse-max-event-bytes', 'sseMaxEventBytes', 'integer', 'Marathon',
    'Longest event-stream line or event accepted (bytes); a longer one is logged and the stream reconnects', { min: 1 }),
  f('marathon-insecure', 'marathonInsecure', 'boolean', 'Marathon',
    'Skip TLS certificate verification for Marathon (logs a warning)'),

  f('marathon-auth-credential-file', 'marathonAuthCredentialFile', 'optional', 'Authentication',
    "Path to file containing a user/pass for the Marathon HTTP API in the format of 'user:pass'."),
  f('auth-credentials', 'authCredentials', 'optional', 'Authentication',
    "user/pass for the Marathon HTTP API in the format of 'user:pass'."),
  f('dcos-auth-credentials', 'dcosAuthCredentials', 'optional', 'Authentication',
    'DC/OS service account credentials (default: $DCOS_SERVICE_ACCOUNT_CREDENTIAL)'),
  f('marathon-ca-cert', 'marathonCaCert', 'optional', 'Authentication',
    'CA certificate for Marathon HTTPS connections'),

  f('haproxy-config', 'haproxyConfig', 'string', 'HAProxy', 'Location of haproxy configuration'),
  f('command', 'command', 'optional', 'HAProxy', 'If set, run this command to reload haproxy.', { alias: 'c' }),
  f('haproxy-bin', 'haproxyBin', 'string', 'HAProxy', 'HAProxy executable used to validate and run the config'),
  f('haproxy-master-socket', 'haproxyMasterSocket', 'string', 'HAProxy',
    'Master CLI socket of the master-worker HAProxy (used to reload)'),
  f('haproxy-pid-file', 'haproxyPidFile', 'string', 'HAProxy', 'Pid file of the HAProxy master'),
  f('haproxy-attach', 'haproxyAttach', 'boolean', 'HAProxy',
    'Attach to an already running master-worker HAProxy instead of starting one'),
  f('leave-haproxy-running', 'leaveHaproxyRunning', 'boolean', 'HAProxy',
    'On SIGTERM/SIGINT leave HAProxy serving; the next controller started with the same master socket adopts it'),
  f('shutdown-timeout', 'shutdownTimeout', 'number', 'HAProxy',
    'Seconds after SIGTERM/SIGINT within which the process exits, whatever is under way (HAProxy is killed if still stopping)',
    POSITIVE),
  f('hard-stop-after', 'hardStopAfter', 'number', 'HAProxy',
    'Seconds old HAProxy workers may live after a reload to finish their connections '
    + "(default: the config's longest timeout client/server/tunnel, at least 30; marathon-lb's head gives 3600)", POSITIVE),
  f('max-old-workers', 'maxOldWorkers', 'integer', 'HAProxy',
    'Old HAProxy workers allowed to linger: a worker that survived more reloads than this is stopped '
    + "(HAProxy's mworker-max-reloads; 0: only hard-stop-after bounds them)", { min: 0 }),
  f('ssl-certs', 'sslCerts', 'string', 'HAProxy',
    'List of SSL certificates separated by comma for frontend marathon_https_in. '
    + 'Ex: /etc/ssl/site1.co.pem,/etc/ssl/site2.co.pem'),
  f('skip-validation', 'skipValidation', 'boolean', 'HAProxy', 'Skip haproxy config file validation'),
  f('skip-config-cleanup', 'skipConfigCleanup', 'boolean', 'HAProxy',
    "If one app fails, don't try to make configuration valid by removing apps one by one"),
  f('lua-dir', 'luaDir', 'string', 'HAProxy', 'Directory the generated lua-load lines point at'),
  f('templates-dir', 'templatesDir', 'string', 'HAProxy',
    'Directory with template override files named after the template (HAPROXY_HEAD, ...)'),
  f('haproxy-version', 'haproxyVersion', 'optional', 'HAProxy',
    'HAProxy version the config is written for, MAJOR.MINOR (default: the version of --haproxy-bin, else 2.6). '
    + "From 2.1 on, directives HAProxy removed (reqadd, rspadd, reqrep, ...) are translated to http-request/http-response rules; "
    + "2.0 prints marathon-lb's text as is"),

  f('group', 'group', 'append', 'Routing',
    "[required] Only generate config for apps which list the specified names. Use '*' to match all "
    + 'groups, including those without a group specified. Repeat for several groups.'),
  f('strict-mode', 'strictMode', 'boolean', 'Routing',
    'If set, backends are only advertised if HAPROXY_{n}_ENABLED=true.'),
  f('refuse-app-templates', 'refuseAppTemplates', 'boolean', 'Routing',
    'Leave out apps carrying per-app template labels (HAPROXY_{n}_<TEMPLATE>), which are raw HAProxy text; '
    + 'for clusters where app owners are not trusted.'),
  f('haproxy-map', 'haproxyMap', 'boolean', 'Routing', 'Use HAProxy maps for domain name to backend mapping.'),
  f('dont-bind-http-https', 'dontBindHttpHttps', 'boolean', 'Routing', "Don't bind to HTTP and HTTPS frontends."),
  f('group-https-by-vhost', 'groupHttpsByVhost', 'boolean', 'Routing', 'Group https frontends by vhost.'),
  f('min-serv-port-ip-per-task', 'minServPortIpPerTask', 'integer', 'Routing',
    'Minimum port number to use when auto-assigning service ports for IP-per-task applications', PORT),
  f('max-serv-port-ip-per-task', 'maxServPortIpPerTask', 'integer', 'Routing',
    'Maximum port number to use when auto-assigning service ports for IP-per-task applications '
    + '(set both to 0 to disable auto assignment)', PORT),

  f('max-reload-retries', 'maxReloadRetries', 'integer', 'Service behaviour',
    'Max reload retries before failure (--command runs, or master-socket reloads that are not confirmed). Reloads happen every --reload-interval seconds. '
    + 'Set to 0 to disable or -1 for infinite retries.', { min: -1 }),
  f('reload-interval', 'reloadInterval', 'integer', 'Service behaviour',
    'Wait this number of seconds between reload retries.', { min: 0 }),
  f('max-backoff', 'maxBackoff', 'integer', 'Service behaviour',
    'Maximum backoff in seconds between retries after failures', POSITIVE),
  f('archive-versions', 'archiveVersions', 'integer', 'Service behaviour',
    'Number of config versions to archive', { min: 0 }),
  f('lru-cache-capacity', 'lruCacheCapacity', 'integer', 'Service behaviour',
    'LRU cache size (in number of items). This should be at least as large as the number of tasks '
    + 'exposed via marathon-lb.', POSITIVE),
  f('debounce-quiet', 'debounceQuiet', 'number', 'Service behaviour',
    'Seconds without new events before a burst of changes is applied', { min: 0 }),
  f('fast-path', 'fastPath', 'boolean', 'Service behaviour',
    'Apply task and health events of known apps through the runtime API at once, before the debounced snapshot '
    + '(which still comes and corrects any difference); --no-fast-path waits for snapshots only'),
  f('debounce-max-wait', 'debounceMaxWait', 'number', 'Service behaviour',
    'Longest a change waits while events keep arriving (seconds)', POSITIVE),
  f('resync-interval', 'resyncInterval', 'number', 'Service behaviour',
    'Seconds between full re-reads of Marathon apps (0 disables)', { min: 0 }),
  f('max-apply-age', 'maxApplyAge', 'number', 'Service behaviour',
    'Seconds a known Marathon change (event, SIGHUP, startup, a differing snapshot) may wait to be applied '
    + 'before /healthz answers 503 (0 disables)', { min: 0 }),
  f('stale-after', 'staleAfter', 'number', 'Service behaviour',
    'Seconds the Marathon event stream may be down, or reads of Marathon fail, before /status and the dashboard '
    + 'call routing stale (/healthz is not affected)', POSITIVE),
  f('haproxy-stats-interval', 'haproxyStatsInterval', 'number', 'Service behaviour',
    "Seconds between reads of HAProxy's server states and traffic (show stat) for /status, /metrics and the dashboard (0 disables)", { min: 0 }),

  f('syslog-socket', 'syslogSocket', 'string', 'Logging',
    "Socket to write syslog messages to. Use '/dev/null' to disable logging to syslog"),
  f('log-format', 'logFormat', 'string', 'Logging', 'Set log message format, or "json" for JSON lines'),
  f('log-level', 'logLevel', 'logLevel', 'Logging', `Set log level (${LOG_LEVELS.join(', ')})`),

  f('admin-bind', 'adminBind', 'string', 'Admin', 'Address of the admin HTTP server'),
  f('admin-port', 'adminPort', 'integer', 'Admin', 'Port of the admin HTTP server (0 disables it)', PORT),
  f('admin-token', 'adminToken', 'optional', 'Admin',
    'If set, admin requests must carry "Authorization: Bearer <token>" (prefer the env var to the flag)'),

  f('dry', 'dry', 'boolean', 'Rendering without Marathon', 'Only print configuration to console', { alias: 'd' }),
  f('apps-file', 'appsFile', 'optional', 'Rendering without Marathon',
    'With --dry: render from this /v2/apps?embed=apps.tasks JSON file ("-" for stdin) instead of Marathon'),
];

/** The environment variable that sets a flag: MLB_ + upper-case name, dashes as underscores. */
export function envName(flag: string): string {
  return 'MLB_' + flag.toUpperCase().replace(/-/g, '_');
}
