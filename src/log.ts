import winston from 'winston';
import type { LogLevel } from './cli/options';
import { printable } from './printable';
import { pythonLogLine } from './pythonLogFormat';
import { syslogStream } from './syslog';
import { wellFormedJson } from './wellFormedJson';

export interface Logger {
  error(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
  info(msg: string, meta?: Record<string, unknown>): void;
  debug(msg: string, meta?: Record<string, unknown>): void;
}

const LEVELS: Record<LogLevel, string> = {
  CRITICAL: 'error',
  ERROR: 'error',
  WARNING: 'warn',
  INFO: 'info',
  DEBUG: 'debug',
  NOTSET: 'debug',
};

const PYTHON_LEVEL_NAMES: Readonly<Record<string, string>> = {
  error: 'ERROR',
  warn: 'WARNING',
  info: 'INFO',
  debug: 'DEBUG',
};

const PYTHON_LEVEL_NUMBERS: Readonly<Record<string, number>> = { ERROR: 40, WARNING: 30, INFO: 20, DEBUG: 10 };

const pad2 = (n: number): string => String(n).padStart(2, '0');
/** Python logging's asctime: `2026-11-25 13:20:01,123` (local time). */
function asctime(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())},${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** The line the formats before made (winston's MESSAGE), its lone surrogates replaced (wellFormedJson.ts). */
const wellFormedLine = winston.format((info) => {
  const line = (info as Record<symbol, unknown>)[MESSAGE];
  if (typeof line === 'string') (info as Record<symbol, unknown>)[MESSAGE] = wellFormedJson(line);
  return info;
});
/** Where winston keeps the formatted line (triple-beam's MESSAGE, a registered symbol). */
const MESSAGE = Symbol.for('message');

/** winston logger: readable lines in marathon-lb's format by default, or `--log-format json`. */
export function createLogger(opts: {
  level: LogLevel;
  format: string;
  stream?: NodeJS.WritableStream;
  syslogSocket?: string;
  name?: string;
}): Logger {
  const json = opts.format === 'json';
  const startedAt = Date.now(); // Python's relativeCreated counts from when logging started
  const format = json
    ? winston.format.combine(winston.format.timestamp(), winston.format.json(), wellFormedLine())
    : winston.format.printf((info) => {
        const { level, message, ...meta } = info as { level: string; message: unknown } & Record<string, unknown>;
        const extra = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
        const now = new Date();
        const name = opts.name ?? 'marathon_lb';
        const levelname = PYTHON_LEVEL_NAMES[level] ?? level.toUpperCase();
        return pythonLogLine(opts.format, {
          asctime: asctime(now),
          name,
          levelname,
          levelno: PYTHON_LEVEL_NUMBERS[levelname] ?? 0,
          // One record, one line: what a message quotes from outside cannot start a line of its own.
          message: printable(`${String(message)}${extra}`),
          msg: printable(`${String(message)}${extra}`),
          args: '()',
          exc_info: 'None',
          exc_text: 'None',
          stack_info: 'None',
          created: now.getTime() / 1000,
          msecs: now.getMilliseconds(),
          relativeCreated: now.getTime() - startedAt,
          process: process.pid,
          processName: 'MainProcess',
          thread: process.pid,
          threadName: 'MainThread',
          // The caller's place in Python; the logger's name here.
          module: name,
          filename: `${name}.py`,
          pathname: `${name}.py`,
          funcName: name,
          lineno: 0,
        });
      });
  const transport =
    opts.stream !== undefined
      ? new winston.transports.Stream({ stream: opts.stream })
      : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] });
  const logger = winston.createLogger({ level: LEVELS[opts.level], format, transports: [transport] });
  const syslog = opts.syslogSocket === undefined ? null : syslogStream(opts.syslogSocket, (msg) => logger.warn(msg));
  if (syslog !== null) logger.add(new winston.transports.Stream({ stream: syslog }));
  return logger;
}
