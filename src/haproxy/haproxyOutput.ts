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

/** Lines of HAProxy's output logged in one window at most, and the longest logged whole. */
const LINES_PER_WINDOW = 200;
const LINE_WINDOW_MS = 10_000;
const MAX_LINE_CHARS = 2048;

/**
 * HAProxy's output, logged line by line within a budget: a binary that printed 3 000 random bytes
 * made 310 lines of up to 4 KB at every retry (an audit), burying the one line that said why, and a
 * config of 40 000 frontends warns once for each. Past LINES_PER_WINDOW lines in LINE_WINDOW_MS the
 * rest of the burst is counted, said once, and not logged; routine notices stay at debug.
 */
export class HaproxyOutputLog {
  private windowStart = Number.NEGATIVE_INFINITY;
  private logged = 0;
  private dropped = 0;

  constructor(
    private readonly logger: HaproxyLogger,
    private readonly now: () => number = Date.now,
  ) {}

  line(line: string): void {
    const t = this.now();
    if (t - this.windowStart >= LINE_WINDOW_MS) {
      if (this.dropped > 0)
        this.logger.warn(`haproxy: ${this.dropped} more line(s) of its output were not logged (the last burst)`);
      this.windowStart = t;
      this.logged = 0;
      this.dropped = 0;
    }
    const alert = line.includes('[ALERT]');
    if (!alert && ROUTINE.test(line)) return this.logger.debug(`haproxy: ${line}`);
    if (this.logged >= LINES_PER_WINDOW) {
      if (this.dropped++ === 0)
        this.logger.warn(
          `haproxy: more than ${LINES_PER_WINDOW} lines of output in ${LINE_WINDOW_MS / 1000} s: the rest of this burst is counted, not logged`,
        );
      return;
    }
    this.logged++;
    const text = `haproxy: ${line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… (${line.length} characters)` : line}`;
    if (alert) this.logger.error(text);
    else if (line.includes('[WARNING]')) this.logger.warn(text);
    else this.logger.info(text);
  }
}

/**
 * HAProxy's alerts about its own files and resources: no app's config causes them, so no trial
 * reload can find one to blame (a read-only pid file directory took three reloads per try, hunting
 * an app, and was reported as a refused config; helper 72).
 */
const RESOURCE_FAULT =
  /Cannot create pidfile|Cannot raise FD limit|Cannot fork|Cannot chroot|Cannot set (uid|gid)|[Oo]ut of memory/;

/** Whether HAProxy's message is about its own files or resources, not the config. */
export const isResourceFault = (message: string): boolean => RESOURCE_FAULT.test(message);

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
