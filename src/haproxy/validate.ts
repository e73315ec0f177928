/**
 * `haproxy -c -f <cfg>`: does HAProxy accept this config? The failure message is HAProxy's
 * ALERT lines without their "[ALERT]    (pid) : " prefix. Note: -c does not notice fd limits
 * (see limits.ts).
 */
import { spawn } from 'node:child_process';
import { err, mapErr, ok, type Result } from '../result';
import { environmentWithoutSecrets } from './env';
import { killProcessGroup } from './stopSignals';

/** Accepted, or HAProxy's reason. */
export type ValidateResult = Result<void>;

/**
 * Why a config did not pass: `refused` when HAProxy ran and refused it; else the check itself did
 * not complete (a timeout, a binary that does not run, a signal), which says nothing about the config.
 */
export interface CheckFailure {
  readonly message: string;
  readonly refused: boolean;
  /** It ran and did not finish in time: the config may hang it (rejections.ts looks for what). */
  readonly hung?: true;
}

const MAX_OUTPUT = 256 * 1024;

const SUMMARY = /Error\(s\) found in configuration file|Fatal errors found in configuration/;

/**
 * HAProxy's ALERT lines from its output, prefixes removed, without the closing summaries
 * ("Fatal errors found …") when there is something more specific; the last lines when there
 * are no ALERTs at all.
 */
export function alertLines(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const alerts = lines
    .filter((l) => l.startsWith('[ALERT]'))
    .map((l) => l.replace(/^\[ALERT\]\s*(\(\d+\)\s*)?:\s*/, ''));
  const specific = alerts.filter((l) => !SUMMARY.test(l));
  if (specific.length > 0) return specific.join('\n');
  return (alerts.length > 0 ? alerts : lines.slice(-5)).join('\n');
}

/**
 * `env`: what HAProxy runs with (its `${VAR}` are expanded while it checks too), never the
 * controller's secrets: by default the controller's environment without them (haproxyEnvironment).
 */
export async function validateConfig(
  bin: string,
  cfgPath: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = environmentWithoutSecrets(),
): Promise<ValidateResult> {
  return mapErr(await checkConfig(bin, cfgPath, timeoutMs, env), (f) => f.message);
}

/**
 * validateConfig, telling HAProxy's refusals from checks that did not complete. `stop`: aborted when
 * the controller stops, the check is killed at once (a forced exit left a hung check running).
 */
export function checkConfig(
  bin: string,
  cfgPath: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = environmentWithoutSecrets(),
  stop?: AbortSignal,
): Promise<Result<void, CheckFailure>> {
  return new Promise((resolve) => {
    const stopped = (): Result<void, CheckFailure> =>
      err({ message: `${bin} -c -f ${cfgPath} was stopped with the controller`, refused: false });
    if (stop?.aborted === true) return resolve(stopped());
    let output = '';
    let settled = false;
    let detachStop = (): void => undefined;
    const finish = (r: Result<void, CheckFailure>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      detachStop();
      resolve(r);
    };
    // A process group of its own: a timed-out check is killed with whatever it started (a wrapper
    // script's children), not only the process spawned here.
    const child = spawn(bin, ['-c', '-f', cfgPath], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
    const append = (d: Buffer): void => {
      if (output.length < MAX_OUTPUT) output += d.toString('utf8');
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const timer = setTimeout(() => {
      killProcessGroup(child);
      finish(
        err({ message: `${bin} -c -f ${cfgPath} did not finish within ${timeoutMs} ms`, refused: false, hung: true }),
      );
    }, timeoutMs);
    const onStop = (): void => {
      killProcessGroup(child);
      finish(stopped());
    };
    stop?.addEventListener('abort', onStop, { once: true });
    detachStop = () => stop?.removeEventListener('abort', onStop);
    child.once('error', (e: NodeJS.ErrnoException) =>
      finish(err({ message: `cannot run ${bin} to check ${cfgPath}: ${e.code ?? e.message}`, refused: false })),
    );
    child.once('close', (code, signal) => {
      if (code === 0) return finish(ok(undefined));
      // Killed by a signal (an OOM kill, a supervisor): HAProxy said nothing about the config.
      if (signal !== null) return finish(err({ message: `${bin} -c was killed by ${signal}`, refused: false }));
      // HAProxy says why it refuses a config ([ALERT] lines, or that it would not start); a wrapper or
      // a broken binary that exits non-zero without a word was blamed on the config and its apps.
      if (REFUSAL.test(output)) return finish(err({ message: alertLines(output), refused: true }));
      const said = alertLines(output);
      finish(
        err({
          message: `${bin} -c exited with code ${code} without refusing the config${said ? `: ${said}` : ''}`,
          refused: false,
        }),
      );
    });
  });
}

/** How HAProxy refuses a config: its alerts, or that it would not start (no listener: exit 2, no alert). */
const REFUSAL = /\[ALERT\]|will not start/;

const SECTION = /^\s*(?:frontend|backend|listen)\s+(\S+)/;

/**
 * The proxies an HAProxy message names, as hints to whom a failure is due: names after
 * "frontend"/"backend"/"proxy" (e.g. "Binding [cfg:14] for frontend app_10000: cannot bind
 * socket"), and for each `[file:line]` the section holding that line in `config` plus the words
 * of the line itself (a `use_backend X` in a shared frontend). Callers keep the names they know.
 */
export function proxiesNamed(message: string, config: string): string[] {
  const names = new Set<string>();
  for (const m of message.matchAll(/\b(?:frontend|backend|listen|proxy)\s+'?([^\s':,]+)/g)) names.add(m[1] as string);
  const lines = message.includes('[') ? config.split('\n') : [];
  for (const m of message.matchAll(/\[([^\]\s]*):(\d+)\]/g)) {
    const at = Number(m[2]) - 1;
    if (/^[\d.]*$|^[\da-f:]*$/i.test(m[1] as string) || at >= lines.length) continue; // an address ("for [0.0.0.0:80]"), not file:line
    for (const word of (lines[at] ?? '').trim().split(/\s+/)) if (word !== '') names.add(word);
    for (let i = at; i >= 0; i--) {
      const header = SECTION.exec(lines[i] as string);
      if (header) {
        names.add(header[1] as string);
        break;
      }
      if (/^[^\s#]/.test(lines[i] as string) && i < at) break; // another kind of section (global, defaults, userlist)
    }
  }
  return [...names];
}

/** The lines of an HAProxy message that name `proxy`, or the whole message when none does. */
export function linesNaming(message: string, proxy: string): string {
  const mine = message.split('\n').filter((l) => l.includes(proxy));
  return mine.length > 0 ? mine.join('\n') : message;
}
