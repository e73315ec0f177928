/**
 * `marathon-lb zdd` flags: zdd.py's, same long names, short forms, defaults and meaning (argparse
 * prefixes included). Pure: never prints, never exits; env only for DCOS_SERVICE_ACCOUNT_CREDENTIAL,
 * upstream's default of --dcos-auth-credentials.
 */
import { baseParser } from '../cli/yargsBase';
import { expandAbbreviations, expandShortClusters } from '../cli/abbrev';
import { LOG_LEVELS, MAX_TIMER_SECONDS, MAX_TIMER_TEXT, type LogLevel } from '../cli/options';
import { err, ok, type Err, type Result } from '../result';
import { logFormatProblem } from '../pythonLogFormat';
import type { ZddFlags } from './run';

export interface ZddArgs extends ZddFlags {
  /** --marathon/-m: one URL, or several (repeated or comma-separated) tried in order. */
  readonly marathon: readonly string[];
  readonly marathonLb: string;
  readonly json: string;
  readonly syslogSocket: string;
  readonly logFormat: string;
  readonly logLevel: LogLevel;
  readonly marathonAuthCredentialFile: string | undefined;
  readonly authCredentials: string | undefined;
  readonly dcosAuthCredentials: string | undefined;
  readonly marathonCaCert: string | undefined;
}

/** Why the flags give no ZddArgs: help or longhelp was asked for, or they are wrong. */
export type ZddStop =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'longhelp' }
  | { readonly kind: 'error'; readonly message: string };

export type ZddParse = Result<ZddArgs, ZddStop>;

const argsError = (message: string): Err<ZddStop> => err({ kind: 'error', message });

type Kind = 'boolean' | 'integer' | 'string';
interface Flag {
  readonly flag: string;
  readonly alias?: string;
  readonly kind: Kind;
  readonly default?: number | string;
  readonly describe: string;
  /** Seconds a timer waits (a step's sleep): 0 to MAX_TIMER_SECONDS. */
  readonly seconds?: boolean;
  /** A number of instances: negative makes no sense (zdd.py took it and scaled to it). */
  readonly count?: boolean;
}

/** The table, in zdd.py's order. */
export const ZDD_FLAGS: readonly Flag[] = [
  { flag: 'longhelp', kind: 'boolean', describe: 'Print out configuration details' },
  {
    flag: 'marathon',
    alias: 'm',
    kind: 'string',
    describe:
      '[required] Marathon endpoint, eg. -m http://marathon1:8080 (repeat, or separate with commas, to fail over)',
  },
  {
    flag: 'marathon-lb',
    alias: 'l',
    kind: 'string',
    describe: '[required] Marathon-lb stats endpoint, eg. -l http://marathon-lb.marathon.mesos:9090',
  },
  { flag: 'json', alias: 'j', kind: 'string', describe: '[required] App JSON' },
  { flag: 'dry-run', alias: 'd', kind: 'boolean', describe: 'Perform a dry run' },
  { flag: 'force', alias: 'f', kind: 'boolean', describe: 'Perform deployment un-prompted' },
  {
    flag: 'step-delay',
    alias: 's',
    kind: 'integer',
    default: 5,
    describe: 'Delay (in seconds) between each successive deployment step',
    seconds: true,
  },
  {
    flag: 'initial-instances',
    alias: 'i',
    kind: 'integer',
    count: true,
    default: 1,
    describe:
      'Initial number of app instances to launch. If this number is greater than total number of existing instances, then this will be overridden by the latter number',
  },
  {
    flag: 'linear-increase',
    kind: 'integer',
    count: true,
    default: 0,
    describe:
      'Instead of scaling the new app by factor 0.5 if its existing instances and going to the new target in a single final step if it meets or surpasses the number of old instances, continously scale the new app by this number.',
  },
  { flag: 'resume', alias: 'r', kind: 'boolean', describe: 'Resume from a previous deployment' },
  {
    flag: 'max-wait',
    alias: 'w',
    kind: 'integer',
    default: 300,
    describe: 'Maximum amount of time (in seconds) to wait for HAProxy to drain connections',
  },
  {
    flag: 'new-instances',
    alias: 'n',
    kind: 'integer',
    count: true,
    default: 0,
    describe:
      'Number of new instances to replace the existing instances. This is for having instances of both blue and green at the same time',
  },
  {
    flag: 'complete-cur',
    alias: 'c',
    kind: 'boolean',
    describe: "Change hybrid app entirely to current (new) app's instances",
  },
  {
    flag: 'complete-prev',
    alias: 'p',
    kind: 'boolean',
    describe: "Change hybrid app entirely to previous (old) app's instances",
  },
  {
    flag: 'pre-kill-hook',
    kind: 'string',
    describe:
      'A path to an executable (such as a script) which will be called before killing any tasks marked for draining at each step. The script will be called with 3 arguments (in JSON): the old app definition, the list of tasks which will be killed, and the new app definition. An exit code of 0 indicates the deploy may continue. If the hook returns a non-zero exit code, the deploy will stop, and an operator must intervene.',
  },
  {
    flag: 'syslog-socket',
    kind: 'string',
    default: '/dev/log',
    describe: "Socket to write syslog messages to. Use '/dev/null' to disable logging to syslog",
  },
  {
    flag: 'log-format',
    kind: 'string',
    default: '%(asctime)-15s %(name)s: %(message)s',
    describe: 'Set log message format',
  },
  { flag: 'log-level', kind: 'string', default: 'DEBUG', describe: 'Set log level' },
  {
    flag: 'marathon-auth-credential-file',
    kind: 'string',
    describe: "Path to file containing a user/pass for the Marathon HTTP API in the format of 'user:pass'.",
  },
  {
    flag: 'auth-credentials',
    kind: 'string',
    describe: "user/pass for the Marathon HTTP API in the format of 'user:pass'.",
  },
  {
    flag: 'dcos-auth-credentials',
    kind: 'string',
    describe: 'DC/OS service account credentials (default: $DCOS_SERVICE_ACCOUNT_CREDENTIAL)',
  },
  { flag: 'marathon-ca-cert', kind: 'string', describe: 'CA certificate for Marathon HTTPS connections' },
];

const USAGE =
  'Usage: marathon-lb zdd -m MARATHON -l MARATHON_LB -j APP.json [options]\n\nZero-downtime deployment orchestrator for marathon-lb';
const EPILOG =
  'Exit status: 0 done, 1 declined at a prompt, 2 other errors, 3 invalid flags for the state found, 4 missing field in the app JSON, ' +
  '5 marathon-lb unreadable, 6 Marathon unreadable, 7 app not created, 8 app not deleted, 9 app not scaled. Run --longhelp for the whole procedure.';

function parser() {
  const y = baseParser({
    scriptName: 'marathon-lb zdd',
    usage: USAGE,
    epilog: EPILOG,
    helpText: 'show this help message and exit',
  });
  for (const f of ZDD_FLAGS) {
    y.option(f.flag, {
      // Integers are read as text (parse-numbers is off) and checked below; --help shows no [string] for them.
      ...(f.kind === 'boolean'
        ? { type: 'boolean' as const }
        : f.kind === 'integer'
          ? { requiresArg: true }
          : { requiresArg: true, type: 'string' as const }),
      ...(f.alias !== undefined ? { alias: f.alias } : {}),
      describe: f.describe,
      ...(f.default !== undefined ? { defaultDescription: String(f.default) } : {}),
    });
  }
  return y;
}

const last = (v: unknown): unknown => (Array.isArray(v) ? (v as unknown[])[v.length - 1] : v);
/** yargs gives strings here (parse-numbers is off); anything else is shown as JSON. */
const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const label = (f: Flag): string => (f.alias ? `--${f.flag}/-${f.alias}` : `--${f.flag}`);

/** zdd.py's long flags (its argparse, common.py's included): their prefixes keep their meaning there (abbrev.ts). */
const UPSTREAM_ZDD_NAMES: readonly string[] = [
  'auth-credentials',
  'complete-cur',
  'complete-prev',
  'dcos-auth-credentials',
  'dry-run',
  'force',
  'help',
  'initial-instances',
  'json',
  'linear-increase',
  'log-format',
  'log-level',
  'longhelp',
  'marathon',
  'marathon-auth-credential-file',
  'marathon-ca-cert',
  'marathon-lb',
  'max-wait',
  'new-instances',
  'pre-kill-hook',
  'resume',
  'step-delay',
  'syslog-socket',
];

/** zdd's short flags, and whether each takes a value (expandShortClusters). */
const ZDD_SHORT_FLAGS: ReadonlyMap<string, boolean> = new Map([
  ['h', false],
  ...ZDD_FLAGS.flatMap((f) => (f.alias === undefined ? [] : [[f.alias, f.kind !== 'boolean'] as const])),
]);

export function parseZddArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ZddParse {
  const expanded = expandAbbreviations(
    expandShortClusters(argv, ZDD_SHORT_FLAGS),
    ['help', ...ZDD_FLAGS.map((f) => f.flag)],
    UPSTREAM_ZDD_NAMES,
  );
  if (!expanded.ok) return argsError(expanded.error);
  let failure: string | undefined;
  let output = '';
  let values: Record<string, unknown> = {};
  parser()
    .fail((msg: string | undefined, err: Error | undefined) => {
      failure ??= msg || err?.message || 'invalid arguments';
    })
    .parseSync([...expanded.value], {}, (err, parsed, out) => {
      if (err && failure === undefined) failure = err.message;
      values = parsed as Record<string, unknown>;
      output = out;
    });
  if (values['help'] === true) return err({ kind: 'help', text: output.replace(/\n*$/, '\n') });
  if (failure !== undefined) {
    // argparse names each unknown flag as it was written (`--bogus=1`, `-x`); yargs without its dashes.
    const unknown = /^Unknown arguments?: (.*)$/s.exec(failure);
    if (unknown !== null) {
      const written = unknown[1]!.split(',').map((name) => {
        const n = name.trim();
        return argv.find((t) => t.startsWith('-') && t.replace(/^-+/, '').split('=')[0] === n) ?? n;
      });
      return argsError(`unrecognized arguments: ${written.join(' ')}`);
    }
    return argsError(failure.replace(/\s*\n\s*/g, ' '));
  }
  if (last(values['longhelp']) === true) return err({ kind: 'longhelp' });

  const v: Record<string, unknown> = {};
  for (const f of ZDD_FLAGS) {
    const raw = last(values[f.flag]);
    if (f.kind === 'boolean') v[f.flag] = raw === true;
    else if (f.kind === 'integer') {
      const text = raw === undefined ? String(f.default) : asText(raw).trim();
      if (!/^[-+]?\d+$/.test(text)) return argsError(`argument ${label(f)}: invalid int value: '${text}'`);
      const n = Number(text);
      // zdd.py's time.sleep refuses a negative delay; a timer longer than the longest fires at once.
      if (f.seconds === true && (n < 0 || n > MAX_TIMER_SECONDS))
        return argsError(`argument ${label(f)}: must be between 0 and ${MAX_TIMER_TEXT}, got ${text}`);
      if (f.count === true && n < 0) return argsError(`argument ${label(f)}: must not be negative, got ${text}`);
      v[f.flag] = n;
    } else v[f.flag] = raw === undefined ? f.default : asText(raw);
  }
  const marathon = ([] as unknown[])
    .concat(values['marathon'] ?? [])
    .flatMap((m) => String(m).split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const req of ['marathon', 'marathon-lb', 'json']) {
    if (
      (req === 'marathon' && marathon.length === 0) ||
      (req !== 'marathon' && (v[req] === undefined || v[req] === ''))
    ) {
      return argsError(`argument ${label(ZDD_FLAGS.find((f) => f.flag === req)!)} is required`);
    }
  }
  // Checked before anything is written to Marathon: zdd.py found out only after the new colour was
  // created, leaving both colours (an audit).
  const lb = String(v['marathon-lb']);
  if (!isHttpUrl(lb))
    return argsError(
      `argument ${label(ZDD_FLAGS.find((f) => f.flag === 'marathon-lb')!)}: not an http:// or https:// URL: ${lb}`,
    );
  const level = String(v['log-level']).toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) return argsError(`Invalid log level: ${level}`);
  const formatProblem = logFormatProblem(String(v['log-format']));
  if (formatProblem !== undefined) return argsError(`argument --log-format: ${formatProblem}`);
  const num = (k: string): number => v[k] as number;
  const str = (k: string): string | undefined => v[k] as string | undefined;
  const dcos = str('dcos-auth-credentials') ?? (env['DCOS_SERVICE_ACCOUNT_CREDENTIAL'] || undefined);
  return ok({
    marathon,
    marathonLb: str('marathon-lb')!,
    json: str('json')!,
    dryRun: v['dry-run'] === true,
    force: v['force'] === true,
    resume: v['resume'] === true,
    completeCur: v['complete-cur'] === true,
    completePrev: v['complete-prev'] === true,
    stepDelay: num('step-delay'),
    initialInstances: num('initial-instances'),
    linearIncrease: num('linear-increase'),
    maxWait: num('max-wait'),
    newInstances: num('new-instances'),
    preKillHook: str('pre-kill-hook'),
    syslogSocket: str('syslog-socket')!,
    logFormat: str('log-format')!,
    logLevel: level as LogLevel,
    marathonAuthCredentialFile: str('marathon-auth-credential-file'),
    authCredentials: str('auth-credentials'),
    dcosAuthCredentials: dcos,
    marathonCaCert: str('marathon-ca-cert'),
  });
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
