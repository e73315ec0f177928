import * as fs from 'node:fs';

/** An input longer than the bound its reader allows. */
export class TooLargeError extends Error {
  constructor(
    readonly input: string,
    readonly maxBytes: number,
  ) {
    super(`${input} is larger than ${describeBytes(maxBytes)}`);
  }
}

export const describeBytes = (n: number): string =>
  n % 2 ** 30 === 0 ? `${n / 2 ** 30} GiB` : n % 2 ** 20 === 0 ? `${n / 2 ** 20} MiB` : `${n} bytes`;

const PIECE_BYTES = 1 << 20;

/** The bound of one app definition read whole (check-labels, zdd's --json): Marathon's own is far smaller. */
export const MAX_APP_DEFINITION_BYTES = 64 * 2 ** 20;

/**
 * The whole of an open file, pipe or device, but no more than `maxBytes`: `/dev/zero`, a pipe that
 * never ends or a mistaken path would otherwise be read until memory runs out (readFileSync has no
 * bound). Throws TooLargeError past it, and the read's own errors.
 */
export function readFdBounded(fd: number, name: string, maxBytes: number): Buffer {
  const pieces: Buffer[] = [];
  let total = 0;
  let piece = Buffer.allocUnsafe(PIECE_BYTES);
  for (;;) {
    const n = fs.readSync(fd, piece, 0, PIECE_BYTES, null);
    if (n === 0) return Buffer.concat(pieces, total);
    total += n;
    if (total > maxBytes) throw new TooLargeError(name, maxBytes);
    if (n === PIECE_BYTES) {
      pieces.push(piece);
      piece = Buffer.allocUnsafe(PIECE_BYTES);
    } else pieces.push(Buffer.from(piece.subarray(0, n))); // a pipe's 64 KiB: not a 1 MiB piece kept for it
  }
}

/** A path that names no regular file where one is read whole. */
export class NotRegularFileError extends Error {
  constructor(readonly path: string) {
    super('not a regular file (a device, pipe, socket or directory)');
  }
}

/**
 * A regular file read whole, but no more than `maxBytes`. Opened without blocking and checked once
 * open: a FIFO (whose open waits for a writer), `/dev/zero`, a terminal or one of the process's own
 * pipes named where a small file is expected held the controller or filled its memory (found by an
 * attack on certificate labels). A file of /proc that would block answers EAGAIN instead.
 */
export function readRegularFileBounded(path: string, maxBytes: number): Buffer {
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  try {
    if (!fs.fstatSync(fd).isFile()) throw new NotRegularFileError(path);
    return readFdBounded(fd, path, maxBytes);
  } finally {
    fs.closeSync(fd);
  }
}

/** readFdBounded of a path. */
export function readFileBounded(path: string, maxBytes: number): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    return readFdBounded(fd, path, maxBytes);
  } finally {
    fs.closeSync(fd);
  }
}

/** A stream (standard input) read whole, but no more than `maxBytes`; it is destroyed past them. */
export async function readStreamBounded(
  stream: NodeJS.ReadableStream & { destroy?: () => void },
  name: string,
  maxBytes: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += b.length;
    if (total > maxBytes) {
      stream.destroy?.();
      throw new TooLargeError(name, maxBytes);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, total);
}
