/**
 * What HAProxy prints, for people: each line at the level it deserves (every reload prints the same
 * notices, kept at debug so real warnings stand out), and why a start or reload failed.
 */
import { readIfExists } from './files';
import { checkFdLimits, readFdEnvironment, type FdEnvironment } from './limits';
import type { HaproxyLogger } from './masterSocket';
import { alertLines, validateConfig } from './validate';

/**
 * What every reload prints, and what HAProxy echoes of the controller's own runtime commands (two
 * lines a server added or removed: a scale of 30 000 tasks made 108 000 lines at info; the
 * controller logs each runtime update itself). A health check's verdict is not among them.
 */
const ROUTINE =
  /'option idle-close-on-response' ignored|Proxy \S+ stopped|Reloading HAProxy|haproxy version is|path to executable|New worker|Loading success|Former worker|Exiting Master|All workers exited|Current worker|Stopping (frontend|backend|proxy)|: CLI : |\(leaving forced maintenance\)|is going DOWN for maintenance\./;

export function logHaproxyLine(logger: HaproxyLogger, line: string): void {
  if (line.includes('[ALERT]')) logger.error(`haproxy: ${line}`);
  else if (ROUTINE.test(line)) logger.debug(`haproxy: ${line}`);
  else if (line.includes('[WARNING]')) logger.warn(`haproxy: ${line}`);
  else logger.info(`haproxy: ${line}`);
}

/** A refused reload: the ALERTs HAProxy printed during it, else what `haproxy -c` says of the file. */
export async function reloadFailureReason(
  reloadLog: readonly string[],
  bin: string,
  configPath: string,
): Promise<string> {
  const logged = alertLines(reloadLog.filter((l) => l.includes('[ALERT]')).join('\n'));
  if (logged) return logged;
  const check = await validateConfig(bin, configPath, 15000);
  return check.ok ? 'see HAProxy\'s log (the config passes "haproxy -c")' : check.error;
}

/** HAProxy exited at startup: its ALERTs, and for an fd-limit refusal what to change. */
export async function startFailureReason(
  output: string,
  status: string,
  configPath: string,
  fdEnvironment?: () => Promise<FdEnvironment>,
): Promise<string> {
  const alerts = alertLines(output) || 'no output';
  let advice = '';
  if (/Cannot raise FD limit/.test(output)) {
    const text = await readIfExists(configPath).catch(() => undefined);
    const check = text === undefined ? undefined : checkFdLimits(text, await (fdEnvironment ?? readFdEnvironment)());
    if (check && !check.ok) advice = `\n${check.error.message}`;
  }
  return `HAProxy exited at startup (${status}): ${alerts}${advice}`;
}
