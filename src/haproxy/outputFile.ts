import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** Read at most this much at a time: a burst is taken in steps, not as one string. */
const READ_BYTES = 256 * 1024;
/** Written (then taken back) when the file is made: what a burst of HAProxy's lines needs, known to fit. */
const PROBE_BYTES = 64 * 1024;
/** Once read this far and caught up, the file is emptied (HAProxy appends, so it writes from the start again). */
const EMPTY_FROM_BYTES = 1024 * 1024;

/**
 * HAProxy's stdout and stderr: a file with no name, read as it grows, never a pipe. A pipe holds
 * 64 KiB: when this process does not read it (paused, stalled, swapped out), HAProxy's master and
 * workers block on their next line, and traffic stops with them (an audit: a SIGSTOPped controller
 * and a burst of server state changes froze every frontend, and the worker aborted on SIGCONT). A
 * write to a file does not wait for its reader. It is emptied once read past EMPTY_FROM_BYTES, and
 * freed when the last process holding it (HAProxy, this reader) closes it.
 */
export class OutputFile {
  private offset: number;
  private readonly decoder = new StringDecoder('utf8');
  private closed = false;

  private constructor(
    private readonly fd: number,
    /** HAProxy's end, until given to it (closeWriter). */
    private writer: number | undefined,
    from: number,
  ) {
    this.offset = from;
  }

  /**
   * A new file in `dir`, unlinked at once: no one else can open it by name. Throws when it cannot be
   * made, or PROBE_BYTES cannot be written there: a full file system takes the file but none of its
   * lines (an audit: a full TMPDIR lost the reason of every failed start).
   */
  static create(dir: string): OutputFile {
    const home = fs.mkdtempSync(path.join(dir, 'marathon-lb-haproxy-'));
    const file = path.join(home, 'output');
    let writer: number | undefined;
    let reader: number | undefined;
    try {
      writer = fs.openSync(file, 'a', 0o600);
      reader = fs.openSync(file, 'r+');
      // A write short of its length is retried for the rest, and that one fails on a full file system.
      for (let left = PROBE_BYTES; left > 0;) left -= fs.writeSync(writer, Buffer.alloc(left));
      fs.ftruncateSync(reader, 0);
      return new OutputFile(reader, writer, 0);
    } catch (e) {
      if (writer !== undefined) fs.closeSync(writer);
      if (reader !== undefined) fs.closeSync(reader);
      throw e;
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  }

  /**
   * A new file in the first of `dirs` where one can be made and written (create), or why in none.
   */
  static createIn(dirs: readonly string[]): OutputFile | { readonly error: string } {
    const why: string[] = [];
    for (const dir of dirs) {
      try {
        return OutputFile.create(dir);
      } catch (e) {
        why.push(`${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
    }
    return { error: why.join(', ') };
  }

  /**
   * The output file of a running HAProxy master this process adopts (`/proc/<pid>/fd/2`), read from
   * its end; undefined when its stderr is no regular file (a pipe of a controller gone, a terminal).
   */
  static ofProcess(pid: number): OutputFile | undefined {
    let fd: number | undefined;
    try {
      fd = fs.openSync(`/proc/${pid}/fd/2`, 'r+');
      const st = fs.fstatSync(fd);
      if (st.isFile()) return new OutputFile(fd, undefined, st.size);
    } catch {
      // not ours to read, or gone
    }
    if (fd !== undefined) fs.closeSync(fd);
    return undefined;
  }

  /** HAProxy's end, for its stdout and stderr (spawn's stdio). */
  get writeFd(): number {
    if (this.writer === undefined) throw new Error('the output file was handed over already');
    return this.writer;
  }

  /** Once HAProxy holds its end (spawned), this process closes its copy. */
  closeWriter(): void {
    if (this.writer !== undefined) fs.closeSync(this.writer);
    this.writer = undefined;
  }

  /** What was written since the last read (up to READ_BYTES at a time, all of it in turn). */
  readNew(): string {
    if (this.closed) return '';
    let text = '';
    try {
      for (;;) {
        const size = fs.fstatSync(this.fd).size;
        if (size < this.offset) this.offset = 0; // emptied by another reader (an adopting controller)
        if (size === this.offset) break;
        const buf = Buffer.allocUnsafe(Math.min(READ_BYTES, size - this.offset));
        const n = fs.readSync(this.fd, buf, 0, buf.length, this.offset);
        if (n === 0) break;
        this.offset += n;
        text += this.decoder.write(buf.subarray(0, n));
        if (text.length >= READ_BYTES) return text; // the rest at the next read
      }
      // Caught up: emptied, so a long run does not fill the disk. A line written between the size
      // read above and this is lost: a rare log line, against a file that grows for good.
      if (this.offset >= EMPTY_FROM_BYTES) {
        fs.ftruncateSync(this.fd, 0);
        this.offset = 0;
      }
    } catch {
      // An unreadable output loses log lines, never HAProxy.
    }
    return text;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeWriter();
    fs.closeSync(this.fd);
  }
}
