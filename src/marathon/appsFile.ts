import { constants } from 'node:buffer';
import * as fs from 'node:fs';
import { describeBytes, readFdBounded, TooLargeError } from '../boundedRead';
import type * as Zlib from 'node:zlib';
import { lazyBuiltin } from '../lazyBuiltin';
import { err, ok, type Result } from '../result';
import {
  AppsBodyDecoder,
  CLOSE_BRACKET,
  closesBody,
  COMMA,
  itemsStart,
  objectEnd,
  OPEN_BRACE,
  skipSpace,
} from './appsBody';
import { MAX_BODY_BYTES } from './bodySink';
import { MAX_APPS, TooManyAppsError } from './appsBound';
import { routedBody } from './routedFields';
import { NOT_JSON, RoutedAppReader } from './routedJson';
import { jsonErrorMessage } from '../jsonError';

const zlib = lazyBuiltin<typeof Zlib>('node:zlib');

/**
 * An apps file (`--dry --apps-file`) read as routing needs it: the body of
 * `/v2/apps?embed=apps.tasks` with each app cut down to what routing reads (routedFields.ts).
 *
 * The file is read a piece at a time and only each app's routed fields are made (routedJson.ts), so
 * neither the whole text (15 MB for the 5 000-app bench file) nor the whole parsed body (34 MB of
 * objects, two thirds of them never read) is ever made. A file that is not exactly
 * `{"apps": [objects…]}`, or whose JSON is invalid, is read and parsed whole instead, so the value
 * and the error are those of `JSON.parse` of the whole text. A gzip file (the bench input as it is
 * shipped, or a saved `curl --compressed` answer) is unpacked whole first. `inputSize` is told the
 * size of the JSON before it is parsed (a pipe's once it is read, a gzip file's once unpacked).
 */
export interface ReadHow {
  /** How much of the file is read at a time. */
  readonly pieceBytes?: number;
  /** Told the size of the JSON before it is parsed. */
  readonly inputSize?: (bytes: number) => void;
  /**
   * A JSON text smaller than this is parsed whole by JSON.parse, its apps then cut down: the same
   * value and errors, faster where the reader's own code would run unoptimized (dry.ts), for at most
   * this many bytes more at the peak. 0: always read app by app.
   */
  readonly wholeBelowBytes?: number;
}

export function readAppsFile(file: string, how: ReadHow = {}): Result<unknown> {
  const { pieceBytes = 1 << 20, inputSize = () => undefined, wholeBelowBytes = 0 } = how;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    return cannotRead(file, e);
  }
  let apps: unknown[] | null;
  try {
    const stat = fs.fstatSync(fd);
    // A pipe or device (`--apps-file /dev/stdin`) cannot be read a second time: its bytes are read
    // whole, and so is a gzip file, to be unpacked.
    if (!stat.isFile() || startsGzip(fd)) {
      const bytes = unpacked(file, readFdBounded(fd, `apps file ${file}`, MAX_BODY_BYTES));
      if (!bytes.ok) return bytes;
      inputSize(bytes.value.length);
      return parseAppsBytes(file, bytes.value, wholeBelowBytes);
    }
    // The bound of any apps body, as a pipe's or a gzip file's (a 1.2 GB file was read, 1.75 GB RSS).
    if (stat.size > MAX_BODY_BYTES) throw new TooLargeError(`apps file ${file}`, MAX_BODY_BYTES);
    inputSize(stat.size);
    apps = stat.size < wholeBelowBytes ? null : splitAndParse(fd, pieceBytes);
  } catch (e) {
    if (e instanceof TooLargeError) return err(`${e.message}, the bound of an apps body`);
    if (e instanceof TooManyAppsError) return err(`apps file ${file}: ${e.message}`);
    if ((e as NodeJS.ErrnoException).code === undefined) throw e; // not the file's fault
    return cannotRead(file, e);
  } finally {
    fs.closeSync(fd);
  }
  if (apps !== null) return { ok: true, value: { apps } };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return cannotRead(file, e);
  }
  return parseAppsText(file, text);
}

/** A whole apps text (a file of another shape read whole), its apps cut down as above. */
export function parseAppsText(name: string, text: string): Result<unknown> {
  try {
    // A byte-order mark is taken as marathon-lb's requests took one (appsBody.ts bomLength).
    return { ok: true, value: routedBody(JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)) };
  } catch (e) {
    return err(`apps file ${name} is not valid JSON: ${jsonErrorMessage(e)}`);
  }
}

/**
 * A whole apps input held as bytes (standard input, a pipe): split into its apps and each parsed
 * alone, as a file is, so that neither its text nor its whole parse is held; another shape is
 * parsed whole (so the value and the error are JSON.parse's), as is any input under `wholeBelowBytes`.
 */
export function parseAppsBytes(name: string, bytes: Buffer, wholeBelowBytes = 0): Result<unknown> {
  if (bytes.length < wholeBelowBytes) return parseAppsText(name, bytes.toString('utf8'));
  try {
    return { ok: true, value: new AppsBodyDecoder().decode(bytes) };
  } catch (e) {
    if (e instanceof TooManyAppsError) return err(`apps file ${name}: ${e.message}`);
    if ((e as NodeJS.ErrnoException).code === 'ERR_STRING_TOO_LONG') return cannotRead(name, e);
    return err(`apps file ${name} is not valid JSON: ${jsonErrorMessage(e)}`);
  }
}

/** gzip's magic bytes: no JSON text starts with 0x1f. */
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

function startsGzip(fd: number): boolean {
  const head = Buffer.alloc(2);
  return fs.readSync(fd, head, 0, 2, 0) === 2 && head.equals(GZIP_MAGIC);
}

/** The input's JSON bytes: gzip-compressed ones unpacked, others as they are. */
export function unpacked(name: string, bytes: Buffer): Result<Buffer> {
  if (bytes.length < 2 || bytes[0] !== GZIP_MAGIC[0] || bytes[1] !== GZIP_MAGIC[1]) return ok(bytes);
  try {
    // Unpacked into one buffer of the size gzip states at its end (ISIZE, the size mod 2^32, at most
    // 256 MiB asked up front): not a list of 16 KiB chunks copied into one more buffer (18 MiB less at
    // the peak for the bench file). A file of several members states its last one's: more chunks follow.
    const stated = bytes.length >= 4 ? bytes.readUInt32LE(bytes.length - 4) : 0;
    const chunkSize = Math.min(Math.max(stated + 1, 1 << 14), 1 << 28);
    // Bounded like a Marathon answer: a few KB of gzip can state nothing true and unpack to gigabytes.
    return ok(zlib().gunzipSync(bytes, { chunkSize, maxOutputLength: MAX_BODY_BYTES }));
  } catch (e) {
    const why =
      (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
        ? `it unpacks to more than ${describeBytes(MAX_BODY_BYTES)}, the bound of an apps body`
        : (e as Error).message;
    return err(`apps file ${name} is gzip-compressed but cannot be unpacked: ${why}`);
  }
}

export function cannotRead(name: string, e: unknown): Result<never> {
  const code = (e as NodeJS.ErrnoException).code;
  // Only `{"apps": [...]}` with nothing else around the list is read app by app; any other shape is one text.
  if (code === 'ERR_STRING_TOO_LONG')
    return err(
      `apps file ${name} is too large to read as one text (over ${constants.MAX_STRING_LENGTH} characters): ` +
        'only a body that is exactly {"apps": [...]} is read one app at a time',
    );
  return err(`cannot read apps file ${name}: ${code ?? (e as Error).message}`);
}

/** Apps that start this close to the end of what is read are first checked to end before it. */
const TAIL_BYTES = 1 << 16;

/** How far into a file `{"apps": [` is looked for. */
const HEADER_BYTES = 1 << 16;

/**
 * The routed apps of an `{"apps": [objects…]}` file, read `pieceBytes` at a time (the buffer grows
 * for an app longer than that); null for any other shape or an app that is not valid JSON.
 */
function splitAndParse(fd: number, pieceBytes: number): unknown[] | null {
  let buf = Buffer.allocUnsafe(pieceBytes);
  const reader = new RoutedAppReader();
  let len = 0; // bytes in buf
  let eof = false;
  /** Keeps buf[from, len), moved to the front, and reads more after it; returns where `from` went. */
  const more = (from: number): number => {
    buf.copy(buf, 0, from, len);
    len -= from;
    if (len === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, len);
      buf = bigger;
    }
    const n = fs.readSync(fd, buf, len, buf.length - len, null);
    if (n === 0) eof = true;
    len += n;
    return 0;
  };
  const view = (): Buffer => buf.subarray(0, len);

  // `{"apps": [` in the first bytes (more while they may be cut short), or another shape.
  let i = -1;
  while (i < 0 && !eof && len < HEADER_BYTES) {
    more(0);
    i = itemsStart(view());
  }
  if (i < 0) return null;
  const apps: unknown[] = [];
  for (;;) {
    // At an item, or at the bracket that closes the list when it is empty or after a comma.
    while (i === len && !eof) i = skipSpace(view(), more(i));
    if (buf[i] === CLOSE_BRACKET) {
      if (apps.length > 0) return null; // `[…, ]` is not JSON
      break;
    }
    if (buf[i] !== OPEN_BRACE) return null;
    // An app cut short by the end of what is read so far is read on until its brackets close: the
    // reader is given whole apps (running off the end would cost its optimized code). Only the last
    // apps before the end are looked at so.
    if (len - i < TAIL_BYTES) while (!eof && objectEnd(view(), i) < 0) i = more(i);
    let app = reader.read(view(), i);
    // Not JSON, or an app longer than TAIL_BYTES cut short.
    while (app === NOT_JSON && !eof && objectEnd(view(), i) < 0) {
      i = more(i);
      app = reader.read(view(), i);
    }
    if (app === NOT_JSON) return null;
    if (apps.push(app) > MAX_APPS) throw new TooManyAppsError();
    i = skipSpace(view(), reader.end);
    while (i === len && !eof) i = skipSpace(view(), more(i));
    if (buf[i] === CLOSE_BRACKET) break;
    if (buf[i] !== COMMA) return null;
    i = skipSpace(view(), i + 1);
    while (i === len && !eof) i = skipSpace(view(), more(i));
  }
  // `]`, then `}` and whitespace to the end of the file.
  while (!eof) i = more(i);
  return closesBody(view(), i) ? apps : null;
}
