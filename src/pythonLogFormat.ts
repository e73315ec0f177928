/**
 * Python logging's `--log-format`: `fmt % record.__dict__`, printf-style. marathon-lb's users write
 * more than `%(name)s`: `[%(process)d]`, `%(msecs)03d`, `%(levelno)s`, `%%`. Only the fields a
 * record has here are filled in; Python's caller fields (funcName, lineno, …) are the logger's.
 */

import { ascii, exponent, pyRepr } from './render/pythonFormat';

/** A log record's fields, by Python's names: numbers stay numbers for `%d`, `%f`, `%x`. */
export type LogRecord = Readonly<Record<string, string | number>>;

// A length modifier (h, l, L) is read and ignored, as Python does.
const SPEC = /%(?:\((\w+)\))?([#0\- +]*)(\d+)?(?:\.(\d+))?[hlL]?([diouxXeEfFgGcrsa%])/g;
/** What Python's logging looks for, anywhere in a format, before it takes it (PercentStyle.validate). */
const PYTHON_FIELD = /%\(\w+\)[#0+ -]*(\*|\d+)?(\.(\*|\d+))?[diouxefgcrsa%]/i;
/** The record's number fields; any other takes no number conversion (%d of funcName raises). */
const NUMBER_FIELDS = new Set(['levelno', 'created', 'msecs', 'relativeCreated', 'process', 'thread', 'lineno']);

/** The fields of a Python LogRecord (3.11; taskName came in 3.12). */
const RECORD_FIELDS = new Set([
  'asctime',
  'name',
  'levelname',
  'levelno',
  'message',
  'created',
  'msecs',
  'relativeCreated',
  'process',
  'processName',
  'thread',
  'threadName',
  'module',
  'filename',
  'pathname',
  'funcName',
  'lineno',
  'msg',
  'args',
  'exc_info',
  'exc_text',
  'stack_info',
]);

/**
 * Why Python's logging would not print records in `format`, or undefined. Python refuses a format
 * with no `%(field)` at the start (Formatter's validate), and one with an unknown field or a `%` that
 * starts no conversion at every record (a traceback on stderr instead of the line): each is said once
 * at the start here, not found in a log that prints half of each line. "json" is this project's own
 * choice (log.ts).
 */
export function logFormatProblem(format: string): string | undefined {
  if (format === 'json') return undefined;
  const spec = new RegExp(SPEC.source, 'y');
  for (let i = format.indexOf('%'); i >= 0; i = format.indexOf('%', spec.lastIndex)) {
    spec.lastIndex = i;
    const m = spec.exec(format);
    if (m === null) {
      return `'%' at offset ${i} starts no conversion such as %(message)s (write %% for a percent sign)`;
    }
    const [text, name, , , , type] = m as unknown as [string, string | undefined, string, string, string, string];
    // `%%` is a percent sign only as such; a conversion without a field has nothing to take (the record
    // is a mapping).
    if (type === '%' ? text !== '%%' : name === undefined) {
      return `'${text}' at offset ${i} is no conversion Python can make here (write %% for a percent sign)`;
    }
    if (name === undefined) continue;
    if (!RECORD_FIELDS.has(name)) {
      return `%(${name}) is not a field of a log record (fields: ${[...RECORD_FIELDS].join(', ')})`;
    }
    if (!'sra'.includes(type) && !NUMBER_FIELDS.has(name)) return `'${text}': %(${name}) is text, not a number`;
  }
  return PYTHON_FIELD.test(format)
    ? undefined
    : 'no %(field) in it, such as %(message)s (Python refuses such a format)';
}

/** `format` with every `%(field)…x` filled in from `record`; `%%` is `%`; an unknown field prints empty. */
export function pythonLogLine(format: string, record: LogRecord): string {
  return format.replace(
    SPEC,
    (
      _m,
      name: string | undefined,
      flags: string,
      width: string | undefined,
      precision: string | undefined,
      type: string,
    ) => {
      if (type === '%') return '%';
      const v = name === undefined ? '' : (record[name] ?? '');
      return padded(converted(v, type, flags, precision === undefined ? undefined : Number(precision)), flags, width);
    },
  );
}

function converted(v: string | number, type: string, flags: string, precision: number | undefined): string {
  if ('sra'.includes(type)) {
    const s = type === 's' ? String(v) : type === 'r' ? pyRepr(v) : ascii(pyRepr(v));
    return precision === undefined ? s : s.slice(0, precision);
  }
  const n = typeof v === 'number' ? v : Number(v);
  if (Number.isNaN(n)) return String(v); // Python would raise; the line is still printed
  const sign = n < 0 ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
  const a = Math.abs(n);
  let body: string;
  switch (type) {
    case 'd':
    case 'i':
    case 'u':
      body = String(Math.trunc(a));
      break;
    case 'x':
    case 'X':
    case 'o': {
      const base = type === 'o' ? 8 : 16;
      body = Math.trunc(a).toString(base);
      if (flags.includes('#')) body = (type === 'o' ? '0o' : '0x') + body;
      if (type === 'X') body = body.toUpperCase();
      break;
    }
    case 'c':
      return String.fromCodePoint(Math.trunc(a));
    case 'e':
    case 'E':
      body = exponent(a.toExponential(precision ?? 6));
      break;
    case 'g':
    case 'G':
      body = String(Number(a.toPrecision(precision === 0 ? 1 : (precision ?? 6))));
      break;
    default:
      body = a.toFixed(precision ?? 6);
  }
  if (type === 'E' || type === 'G' || type === 'F') body = body.toUpperCase();
  return sign + body;
}

function padded(s: string, flags: string, width: string | undefined): string {
  const w = width === undefined ? 0 : Number(width);
  if (s.length >= w) return s;
  if (flags.includes('-')) return s.padEnd(w);
  if (flags.includes('0') && /^[-+ ]?\d/.test(s)) {
    const sign = /^[-+ ]/.test(s) ? s[0]! : '';
    return sign + s.slice(sign.length).padStart(w - sign.length, '0');
  }
  return s.padStart(w);
}
