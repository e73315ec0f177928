import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { Writable } from 'node:stream';

/** Syslog severities for winston's levels (RFC 5424), facility local0 like marathon-lb's handler. */
const SEVERITY: Readonly<Record<string, number>> = { error: 3, warn: 4, info: 6, debug: 7 };
const LOCAL0 = 16;

/**
 * logger(1) cuts a longer line into messages of this many bytes and reads a `<priority>` again at
 * the start of each piece: text from an app placed past the cut (a 1 000-character app id is
 * logged when it is refused) would become a record of its own, at a priority of its choosing. So
 * each line is cut here, below the size logger is given.
 */
const LOGGER_SIZE = 8192;
const MAX_LINE_BYTES = LOGGER_SIZE - 64;

/** `line` in at most MAX_LINE_BYTES bytes of UTF-8, marked when cut. */
function fitted(line: string): string {
  if (line.length * 3 <= MAX_LINE_BYTES || Buffer.byteLength(line) <= MAX_LINE_BYTES) return line;
  // A character cut in two decodes to U+FFFD, which is harmless here.
  return `${Buffer.from(line)
    .subarray(0, MAX_LINE_BYTES - 16)
    .toString()} …(cut)`;
}

function isSocket(path: string): boolean {
  try {
    return fs.statSync(path).isSocket();
  } catch {
    return false; // missing or unreadable: not a socket we can use
  }
}

const LOGGER_VARIABLES = ['PATH', 'TZ', 'LANG', 'LC_ALL', 'LC_TIME', 'LC_CTYPE'];

function loggerEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const name of LOGGER_VARIABLES) if (env[name] !== undefined) out[name] = env[name];
  return out;
}

/**
 * A stream that forwards log lines to the syslog socket (marathon-lb: `--syslog-socket`, default
 * /dev/log; `/dev/null` disables it). Node cannot write Unix datagrams itself, so one long-lived
 * util-linux `logger --prio-prefix` does it; each line carries its own `<priority>` prefix.
 * Returns null (and says why through `warn`) when there is no socket to write to.
 */
export function syslogStream(socket: string, warn: (msg: string) => void): Writable | null {
  if (socket === '/dev/null' || socket === '') return null;
  if (!isSocket(socket)) {
    warn(`--syslog-socket ${socket} is not a socket here: logging to stderr only (use /dev/null to silence this)`);
    return null;
  }
  const child = spawn(
    'logger',
    ['--socket', socket, '--socket-errors=off', '--prio-prefix', '--tag', 'marathon_lb', '--size', String(LOGGER_SIZE)],
    // logger(1) needs only where to find itself and how to write the time: none of the secrets.
    { stdio: ['pipe', 'ignore', 'ignore'], env: loggerEnvironment(process.env) },
  );
  child.on('error', (e) => warn(`syslog via logger(1) failed: ${e.message}`));
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  return new Writable({
    objectMode: true,
    write(info: { level?: string; [k: symbol]: unknown }, _enc, done) {
      const message = info[Symbol.for('message')];
      const line = fitted((typeof message === 'string' ? message : '').replace(/\n/g, ' '));
      const pri = LOCAL0 * 8 + (SEVERITY[info.level ?? 'info'] ?? 6);
      if (child.stdin?.writable) child.stdin.write(`<${pri}>${line}\n`);
      done();
    },
    final(done) {
      child.stdin?.end();
      done();
    },
  });
}
