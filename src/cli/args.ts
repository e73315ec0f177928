/**
 * Command line + MLB_* environment → Options, with upstream marathon_lb.py's flags and checks.
 * Pure apart from reading config/ for --longhelp: never prints, never exits, never reads process.env.
 * Precedence: command-line flag, then MLB_<FLAG>, then the default.
 */
import type { Argv } from 'yargs';
import { baseParser } from './yargsBase';
import { expandAbbreviations, expandShortClusters } from './abbrev';
import { buildLongHelp, loadLongHelpData } from './longhelp';
import {
  DEFAULT_OPTIONS,
  FLAGS,
  FlagSpec,
  HelpGroup,
  LOG_LEVELS,
  MAX_TIMER_SECONDS,
  MAX_TIMER_TEXT,
  Options,
  envName,
} from './options';
import { err, ok, type Err, type Result } from '../result';
import { withoutCredentials } from '../marathon/credentials';
import { logFormatProblem } from '../pythonLogFormat';

/** Why the flags give no options: help was asked for (its text is the answer), or they are wrong. */
export type ArgsStop =
  { readonly kind: 'help'; readonly text: string } | { readonly kind: 'error'; readonly message: string };

export type ParseResult = Result<Options, ArgsStop>;

const argsError = (message: string): Err<ArgsStop> => err({ kind: 'error', message });

/** `marathon-lb check-labels`: the service's options plus the app to check. */
export interface CheckLabelsArgs {
  readonly options: Options;
  /** --app-file (`-` = standard input). */
  readonly appFile: string;
  readonly json: boolean;
  /** False when neither --group nor MLB_GROUP was given: the app's own groups are checked. */
  readonly groupGiven: boolean;
}

export type CheckLabelsParse = Result<CheckLabelsArgs, ArgsStop>;

type Env = Readonly<Record<string, string | undefined>>;

const GROUP_ORDER: readonly HelpGroup[] = [
  'Marathon',
  'HAProxy',
  'Routing',
  'Service behaviour',
  'Logging',
  'Authentication',
  'Admin',
  'Rendering without Marathon',
];

// One line per paragraph: yargs wraps them to the terminal (a line break inside one left ragged lines).
const USAGE = `Usage: $0 --group NAME [options]

Marathon HAProxy Load Balancer: turns the Marathon apps of a group into an HAProxy config and keeps it current.

Before deploying an app: $0 check-labels --app-file APP.json [options] (see check-labels --help).`;

const CHECK_USAGE = `Usage: $0 check-labels --app-file APP.json [options]

Checks one Marathon app definition (as given to "dcos marathon app add") against the same flags as the service: prints every problem with the label that causes it and how to fix it, and checks the config holding only that app with haproxy -c. Without --group the app's own HAPROXY_GROUP is assumed.

Exit status: 0 served, 1 left out or not selected, 2 bad input or flags, 3 HAProxy not installed (model checks passed).`;

const EPILOG =
  'Every flag can also be set with an environment variable MLB_<FLAG> (upper-case, dashes as underscores, ' +
  'eg. MLB_HAPROXY_CONFIG, MLB_GROUP=external, MLB_STRICT_MODE=true); list values are split on commas and ' +
  'whitespace. Command-line flags win over the environment (--no-<flag> turns a boolean off).\n\n' +
  'Run --longhelp for every template and label.';

function defaultDescription(spec: FlagSpec): string | undefined {
  const value = DEFAULT_OPTIONS[spec.key];
  // Booleans are off unless given, as in marathon-lb: only one on by default says so.
  if (value === undefined || value === false) return undefined;
  if (value === true) return 'true';
  if (Array.isArray(value)) return value.length > 0 ? value.join(' ') : undefined;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function buildParser(checkLabels = false): Argv {
  const y = baseParser({
    scriptName: 'marathon-lb',
    usage: checkLabels ? CHECK_USAGE : USAGE,
    epilog: EPILOG,
    helpText: 'Show this help',
  }).option('longhelp', { type: 'boolean', describe: 'Print out configuration details [env: MLB_LONGHELP]' });
  if (checkLabels) {
    y.option('app-file', {
      requiresArg: true,
      describe: 'The Marathon app definition (JSON) to check; - reads standard input',
    })
      .option('json', { type: 'boolean', describe: 'Print the result as JSON' })
      .group(['app-file', 'json'], 'check-labels:');
  }
  for (const spec of FLAGS) {
    const kindOpts =
      spec.kind === 'boolean'
        ? { type: 'boolean' as const }
        : spec.kind === 'list'
          ? { type: 'array' as const, string: true }
          : { requiresArg: true };
    // check-labels takes the app's own HAPROXY_GROUP without --group.
    const describe =
      checkLabels && spec.flag === 'group'
        ? `${spec.describe.replace(/^\[required\] /, '')} Default: the app's own HAPROXY_GROUP.`
        : spec.describe;
    y.option(spec.flag, {
      ...kindOpts,
      ...(spec.alias !== undefined ? { alias: spec.alias } : {}),
      describe: `${describe} [env: ${envName(spec.flag)}]`,
      defaultDescription: defaultDescription(spec),
    });
  }
  for (const group of GROUP_ORDER) {
    y.group(
      FLAGS.filter((s) => s.group === group).map((s) => s.flag),
      `${group}:`,
    );
  }
  return y;
}

type YargsRun =
  | { kind: 'fail'; message: string }
  | { kind: 'help'; text: string }
  | { kind: 'parsed'; values: Readonly<Record<string, unknown>> };

/** Flags that take no value: only they have a --no-<flag> form. */
const BOOLEAN_FLAGS = FLAGS.filter((s) => s.kind === 'boolean').map((s) => s.flag);
const NEGATABLE = new Set([...BOOLEAN_FLAGS, 'json', 'help']);

function runYargs(argv: readonly string[], checkLabels = false): YargsRun {
  // yargs reads --no-<flag> as false for any flag, argparse knows none: `--no-ssl-certs` printed
  // `crt false`, `--no-command` ran `false` to reload, `--no-marathon` was the default (an audit).
  const end = argv.indexOf('--');
  for (const token of end < 0 ? argv : argv.slice(0, end)) {
    const negated = /^--no-([^=]+)/.exec(token)?.[1];
    if (negated !== undefined && !NEGATABLE.has(negated))
      return { kind: 'fail', message: `unrecognized arguments: ${token}` };
  }
  let failure: string | undefined;
  let output = '';
  let values: Record<string, unknown> = {};
  const parser = buildParser(checkLabels).fail((msg: string | undefined, err: Error | undefined) => {
    failure ??= msg || err?.message || 'invalid arguments';
  });
  parser.parseSync([...argv], {}, (err, parsed, out) => {
    if (err && failure === undefined) failure = err.message;
    values = parsed as Record<string, unknown>;
    output = out;
  });
  if (values['help'] === true) return { kind: 'help', text: output.replace(/\n*$/, '\n') };
  if (failure !== undefined) return { kind: 'fail', message: yargsMessage(failure, argv) };
  // Operands after `--`: yargs keeps them aside without a word; argparse names them, and so does this.
  const operands = values['_'];
  if (Array.isArray(operands) && operands.length > 0)
    return { kind: 'fail', message: `unrecognized arguments: ${operands.map(String).join(' ')}` };
  return { kind: 'parsed', values };
}

/** yargs' messages in argparse's words, naming flags as the user typed them. */
function yargsMessage(msg: string, argv: readonly string[]): string {
  const missing = /^Not enough arguments following: (\S+)/.exec(msg);
  if (missing) return `argument ${flagLabel(missing[1] ?? '')}: expected one argument`;
  const unknown = /^Unknown arguments?: (.*)$/s.exec(msg);
  if (unknown) {
    const typed = (name: string): string => {
      const dashed = name.length === 1 ? `-${name}` : `--${name}`;
      return argv.some((a) => a === dashed || a.startsWith(`${dashed}=`)) ? dashed : name;
    };
    const names = (unknown[1] ?? '').split(/,\s*/).map((n) => n.trim());
    // yargs adds the camelCase twin of each unknown --dashed-name: named once, as typed.
    const kebab = (n: string): string => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    return `unrecognized arguments: ${names
      .filter((n) => kebab(n) === n || !names.includes(kebab(n)))
      .map(typed)
      .join(' ')}`;
  }
  return msg.replace(/\s*\n\s*/g, ' ');
}

function flagLabel(flag: string): string {
  const spec = FLAGS.find((s) => s.flag === flag || s.alias === flag);
  return spec === undefined ? `--${flag}` : spec.alias ? `--${spec.flag}/-${spec.alias}` : `--${spec.flag}`;
}

/** Where a value came from, for messages: "argument --x" or "MLB_X (--x)". */
interface Raw {
  readonly value: unknown;
  readonly source: string;
  readonly fromEnv: boolean;
}

/**
 * The flag's value from the command line, else MLB_<FLAG> (empty counts as unset), else its fallback
 * variable (upstream's default for --dcos-auth-credentials is os.getenv('DCOS_SERVICE_ACCOUNT_CREDENTIAL')), else undefined.
 */
function rawValue(
  flag: string,
  cli: Readonly<Record<string, unknown>>,
  env: Env,
  fallbackEnv?: string,
): Raw | undefined {
  const fromCli = cli[flag];
  if (fromCli !== undefined) return { value: fromCli, source: `argument ${flagLabel(flag)}`, fromEnv: false };
  const name = envName(flag);
  const text = env[name];
  if (text !== undefined && text.trim() !== '') return { value: text, source: `${name} (--${flag})`, fromEnv: true };
  const fallback = fallbackEnv === undefined ? undefined : env[fallbackEnv];
  if (fallbackEnv !== undefined && fallback !== undefined && fallback !== '') {
    return { value: fallback, source: `${fallbackEnv} (--${flag})`, fromEnv: true };
  }
  return undefined;
}

type Coerced = Result<unknown>;
const bad = (message: string): Coerced => err(message);

const last = (v: unknown): unknown => (Array.isArray(v) ? v[v.length - 1] : v);
const splitList = (text: string): string[] => text.split(/[\s,]+/).filter((s) => s !== '');
const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

function coerceNumber(spec: FlagSpec, raw: Raw): Coerced {
  const text = String(last(raw.value)).trim();
  const integer = spec.kind === 'integer';
  const shape = integer ? /^[-+]?\d+$/ : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
  if (!shape.test(text)) return bad(`${raw.source}: expected ${integer ? 'an integer' : 'a number'}, got '${text}'`);
  const n = Number(text);
  if (!Number.isFinite(n)) return bad(`${raw.source}: expected a finite number, got '${text}'`);
  if (spec.seconds === true && n > MAX_TIMER_SECONDS) {
    return bad(`${raw.source}: must be at most ${MAX_TIMER_TEXT}, got ${text}`);
  }
  if (spec.min !== undefined && spec.max !== undefined && (n < spec.min || n > spec.max)) {
    return bad(`${raw.source}: must be between ${spec.min} and ${spec.max}, got ${text}`);
  }
  if (spec.min !== undefined && spec.minExclusive === true && n <= spec.min) {
    return bad(`${raw.source}: must be greater than ${spec.min}, got ${text}`);
  }
  if (spec.min !== undefined && n < spec.min) return bad(`${raw.source}: must be at least ${spec.min}, got ${text}`);
  return ok(n);
}

function coerceBoolean(raw: Raw): Coerced {
  const v = last(raw.value);
  if (typeof v === 'boolean') return ok(v);
  const word = String(v).trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return ok(true);
  if (FALSE_WORDS.includes(word)) return ok(false);
  return bad(`${raw.source}: expected true or false, got '${String(v)}'`);
}

function coerce(spec: FlagSpec, raw: Raw): Coerced {
  switch (spec.kind) {
    case 'boolean':
      return coerceBoolean(raw);
    case 'string':
    case 'optional':
      return ok(String(last(raw.value)));
    case 'list':
    case 'append': {
      const items = raw.fromEnv
        ? splitList(String(raw.value))
        : (Array.isArray(raw.value) ? raw.value : [raw.value]).map(String);
      return items.length === 0 ? bad(`${raw.source}: expected at least one argument`) : ok(items);
    }
    case 'integer':
    case 'number':
      return coerceNumber(spec, raw);
    case 'logLevel': {
      const level = String(last(raw.value)).trim().toUpperCase();
      return (LOG_LEVELS as readonly string[]).includes(level)
        ? ok(level)
        : bad(`${raw.source}: invalid log level '${String(last(raw.value))}' (choose from ${LOG_LEVELS.join(', ')})`);
    }
    case 'logFormat': {
      const format = String(last(raw.value));
      const problem = logFormatProblem(format);
      return problem === undefined ? ok(format) : bad(`${raw.source}: ${problem}`);
    }
  }
}

/** Whether a URL's user and password decode: `%zz` in them threw "URI malformed" when Marathon was first asked. */
function hasDecodableUserInfo(url: string): boolean {
  try {
    const u = new URL(url);
    decodeURIComponent(u.username);
    decodeURIComponent(u.password);
    return true;
  } catch {
    return false;
  }
}

/** Upstream's checks across flags, plus this project's. Returns the first problem. */
function crossCheck(o: Options): string | undefined {
  for (const url of o.marathon) {
    // Shown without its credentials, which a URL may carry (http://user:password@host).
    if (!/^https?:\/\/[^/\s]+/i.test(url) || !URL.canParse(url)) {
      // URLs joined by a comma are shown each without its credentials: `:28003,http://…` is no password.
      const several = /,\s*https?:\/\//i.test(url);
      const shown = several ? url.split(',').map(withoutCredentials).join(',') : withoutCredentials(url);
      const hint = several
        ? ' (several URLs are separate arguments: -m URL URL, as in marathon-lb)'
        : shown.endsWith('***')
          ? " (what follows ':' is no port; a password with a comma or a blank in it, which split the list of URLs, is written percent-encoded: %2C, %20)"
          : '';
      return `argument --marathon/-m: '${shown}' is not an http:// or https:// URL${hint}`;
    }
    if (!hasDecodableUserInfo(url))
      return `argument --marathon/-m: '${withoutCredentials(url)}' has a user or password with a % that starts no escape (write a % itself as %25)`;
  }
  if ((o.minServPortIpPerTask !== 0) !== (o.maxServPortIpPerTask !== 0)) {
    return (
      'either specify both --min-serv-port-ip-per-task and --max-serv-port-ip-per-task or neither ' +
      '(set both to zero to disable auto assignment)'
    );
  }
  if (o.minServPortIpPerTask > o.maxServPortIpPerTask) {
    return 'cannot set --min-serv-port-ip-per-task to a higher value than --max-serv-port-ip-per-task';
  }
  if (o.group.every((g) => g.trim() === ''))
    return 'argument --group is required: please specify at least one group name';
  if (o.haproxyAttach && o.command !== undefined)
    return '--haproxy-attach and --command cannot be used together: --command reloads an HAProxy the controller does not drive';
  if (o.appsFile !== undefined && !o.dry) return '--apps-file requires --dry';
  if (o.haproxyVersion !== undefined && !/^\d{1,3}\.\d{1,3}(\.\d+)?$/.test(o.haproxyVersion.trim())) {
    return `argument --haproxy-version: expected MAJOR.MINOR (e.g. 2.6), got '${o.haproxyVersion}'`;
  }
  if (o.debounceMaxWait < o.debounceQuiet) {
    return `--debounce-max-wait (${o.debounceMaxWait}) must not be shorter than --debounce-quiet (${o.debounceQuiet})`;
  }
  if (o.authCredentials !== undefined && !/^[^:]+:/.test(o.authCredentials)) {
    return "argument --auth-credentials: expected 'user:pass'";
  }
  return undefined;
}

function usageText(): string {
  const run = runYargs(['--help']);
  return run.kind === 'help' ? run.text : '';
}

/** Every long flag in help order (argparse lists ambiguous matches in this order), then yargs' --no-<flag> forms. */
const LONG_NAMES: readonly string[] = [
  'help',
  ...FLAGS.map((s) => s.flag),
  'longhelp',
  ...BOOLEAN_FLAGS.map((flag) => `no-${flag}`),
  'no-longhelp',
];

/** marathon_lb.py's long flags (its argparse, common.py's included): their prefixes keep their meaning there. */
const UPSTREAM_LONG_NAMES: readonly string[] = [
  'archive-versions',
  'auth-credentials',
  'command',
  'dcos-auth-credentials',
  'dont-bind-http-https',
  'dry',
  'group',
  'group-https-by-vhost',
  'haproxy-config',
  'haproxy-map',
  'health-check',
  'help',
  'log-format',
  'log-level',
  'longhelp',
  'lru-cache-capacity',
  'marathon',
  'marathon-auth-credential-file',
  'marathon-ca-cert',
  'max-backoff',
  'max-reload-retries',
  'max-serv-port-ip-per-task',
  'min-serv-port-ip-per-task',
  'reload-interval',
  'skip-config-cleanup',
  'skip-validation',
  'sse',
  'ssl-certs',
  'strict-mode',
  'syslog-socket',
];

/** The short flags, and whether each takes a value (expandShortClusters). */
const SHORT_FLAGS: ReadonlyMap<string, boolean> = new Map([
  ['h', false],
  ...FLAGS.flatMap((s) =>
    s.alias === undefined || s.alias.length !== 1 ? [] : [[s.alias, s.kind !== 'boolean'] as const],
  ),
]);

/**
 * What to tell of MLB_* variables no flag reads (`MLB_STRICT`, `MLB_MARATHON_URL`): a setting so
 * misspelled was ignored without a word (found by a new-user test). One line each, naming the flag
 * variables that start with it or that it starts with, if any. `MLB_ROOT` is the image's own
 * (docker/run).
 */
export function unknownSettings(env: Env): string[] {
  const known = new Set(['MLB_ROOT', 'MLB_LONGHELP', ...FLAGS.map((f) => envName(f.flag))]);
  const lines: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('MLB_') || known.has(name) || env[name] === undefined) continue;
    const near = [...known].filter((k) => k !== 'MLB_ROOT' && (k.startsWith(name) || name.startsWith(k)));
    lines.push(
      `${name} is not a setting of marathon-lb and is ignored${near.length > 0 && near.length <= 3 ? ` (did you mean ${near.join(' or ')}?)` : ''}; each flag's variable is MLB_ and its name (--help lists them)`,
    );
  }
  return lines;
}

export function parseArgs(argv: readonly string[], env: Env): ParseResult {
  const expanded = expandAbbreviations(expandShortClusters(argv, SHORT_FLAGS), LONG_NAMES, UPSTREAM_LONG_NAMES);
  if (!expanded.ok) return argsError(expanded.error);
  const run = runYargs(expanded.value);
  if (run.kind === 'fail') return argsError(run.message);
  if (run.kind === 'help') return err(run);
  return optionsFrom(run.values, env);
}

/** `marathon-lb check-labels …` (argv without the subcommand): the service's flags, --app-file and --json; --group is optional. */
export function parseCheckLabelsArgs(argv: readonly string[], env: Env): CheckLabelsParse {
  const expanded = expandAbbreviations(
    expandShortClusters(argv, SHORT_FLAGS),
    [...LONG_NAMES, 'app-file', 'json', 'no-json'],
    UPSTREAM_LONG_NAMES,
  );
  if (!expanded.ok) return argsError(expanded.error);
  const run = runYargs(expanded.value, true);
  if (run.kind === 'fail') return argsError(run.message);
  if (run.kind === 'help') return err(run);
  // yargs reads `--app-file 5` as a number: a path is its text.
  const rawFile = last(run.values['app-file']);
  const appFile = typeof rawFile === 'string' || typeof rawFile === 'number' ? String(rawFile) : '';
  if (appFile === '')
    return argsError('argument --app-file is required: the app definition to check (- for standard input)');
  const groupGiven = rawValue('group', run.values, env) !== undefined;
  // No --group: the app's own groups are checked (check.ts); a placeholder satisfies the service's check.
  const parsed = optionsFrom(groupGiven ? run.values : { ...run.values, group: ['*'] }, env);
  if (!parsed.ok) return parsed;
  return ok({ options: parsed.value, appFile, json: run.values['json'] === true, groupGiven });
}

function optionsFrom(values: Readonly<Record<string, unknown>>, env: Env): ParseResult {
  const run = { values };

  const merged: Record<string, unknown> = { ...DEFAULT_OPTIONS };
  for (const spec of FLAGS) {
    const raw = rawValue(spec.flag, run.values, env, spec.fallbackEnv);
    if (raw === undefined) continue;
    const c = coerce(spec, raw);
    if (!c.ok) return argsError(c.error);
    merged[spec.key] = Array.isArray(c.value) ? Object.freeze(c.value) : c.value;
  }
  const longhelpRaw = rawValue('longhelp', run.values, env);
  const longhelp: Coerced = longhelpRaw === undefined ? ok(false) : coerceBoolean(longhelpRaw);
  if (!longhelp.ok) return argsError(longhelp.error);
  if (longhelp.value === true) {
    try {
      return err({ kind: 'help', text: buildLongHelp(usageText(), loadLongHelpData()) });
    } catch (e) {
      return argsError(`--longhelp: cannot read the template documentation: ${(e as Error).message}`);
    }
  }

  // A blank token is a secret that failed to render (a missing key in a Kubernetes secret, say), not
  // "no token": taken as unset (as other empty MLB_* variables are), it opened the admin API without a word.
  const cliToken = last(run.values['admin-token']);
  const envToken = env[envName('admin-token')];
  if (
    (typeof cliToken === 'string' && cliToken.trim() === '') ||
    (cliToken === undefined && envToken !== undefined && envToken.trim() === '')
  )
    return argsError(
      `${cliToken === undefined ? `${envName('admin-token')} (--admin-token)` : 'argument --admin-token'}: is blank; give the token, or leave it unset for an admin API without one`,
    );

  // A blank inside (a file's last line break, from a secret made of a file): no Authorization header
  // can carry it, so the admin API stayed locked without a word (found by an audit).
  const token = cliToken ?? envToken;
  if (typeof token === 'string' && /\s/.test(token))
    return argsError(
      `${cliToken === undefined ? `${envName('admin-token')} (--admin-token)` : 'argument --admin-token'}: holds a blank or a line break (at its end, from a file?), which no Authorization header can carry; remove it`,
    );
  // Header bytes reach the server as Latin-1 and the token is compared as UTF-8: "pässwort" matched
  // no UTF-8 client (curl, Prometheus), and a browser cannot send one past U+00FF at all (an audit).
  if (typeof token === 'string' && /[^\x21-\x7e]/.test(token))
    return argsError(
      `${cliToken === undefined ? `${envName('admin-token')} (--admin-token)` : 'argument --admin-token'}: holds a character other than printable ASCII, which clients send in an Authorization header as they please; use letters, digits and ASCII punctuation`,
    );

  const options = Object.freeze(merged) as unknown as Options;
  const problem = crossCheck(options);
  return problem === undefined ? ok(options) : argsError(problem);
}
