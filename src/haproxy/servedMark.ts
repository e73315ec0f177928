import { promises as fs } from 'node:fs';

/**
 * A note that HAProxy's current worker runs exactly the files on disk. A restarted controller that
 * adopts that HAProxy (takeover.ts) and would write the very same files keeps it as it is, as
 * marathon-lb does not reload a config it finds unchanged. Without the note, the first apply
 * reloaded an adopted HAProxy whatever it ran: at 2 000 apps × 20 ports a 27 s reload, with the old
 * 1.1 GB worker finishing beside the new one (an audit).
 *
 * The files alone cannot say it: an apply cut short (the controller killed between writing the
 * config and reloading, a refused reload rolled back) or a fast-path change made through the runtime
 * API only leaves files HAProxy does not run. So the note is removed before anything may change
 * what HAProxy runs, and written only once HAProxy proved it runs files that are on disk. It names
 * the master and the worker, and each file as it was written (inode, size, modification time in
 * ns: a new version renamed into place changes them). Its operations run one at a time, in order.
 */
export class ServedMark {
  private queue: Promise<unknown> = Promise.resolve();
  /** Counts clears: a note whose apply a newer change followed is not written. */
  private generation = 0;

  /** `path`: where the note is kept; `files`: the files HAProxy reads (the config and the maps). */
  constructor(
    private readonly path: string,
    private readonly files: readonly string[],
  ) {}

  /** Removes the note: what HAProxy runs is about to change. Throws when it cannot be removed. */
  clear(): Promise<void> {
    this.generation++;
    // unlink, not rm: rm's fallback for a refused unlink (an immutable directory) reported ENOTDIR.
    return this.next(() =>
      fs.unlink(this.path).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      }),
    );
  }

  /**
   * Notes that the worker `serving` names runs the files on disk, once `onDisk` says the files of
   * the apply are there (false: they are not, and nothing is noted). Not when a clear came between:
   * the files or HAProxy may be changing again. The waits are outside the queue, so a change that
   * follows does not wait for this apply's files to be written.
   */
  async record(
    serving: () => Promise<{ readonly master: number; readonly worker: number } | null>,
    onDisk: () => Promise<boolean>,
  ): Promise<void> {
    const generation = this.generation;
    if (!(await onDisk())) return;
    const w = await serving();
    if (w === null || generation !== this.generation) return;
    await this.next(async () => {
      if (generation !== this.generation) return;
      const note: Note = { master: w.master, worker: w.worker, files: await this.identities() };
      // Renamed into place, never seen half-written; not synced: lost in a crash of the machine, it
      // only costs a reload, and HAProxy did not survive that crash either. A change waits for it.
      const tmp = `${this.path}.${process.pid}.tmp`;
      await fs.writeFile(tmp, `${JSON.stringify(note)}\n`);
      await fs.rename(tmp, this.path);
    });
  }

  /** Whether the note says that `worker` of `master` runs the files on disk as they are now. */
  holds(master: number, worker: number): Promise<boolean> {
    return this.next(async () => {
      let note: Partial<Note>;
      try {
        note = JSON.parse(await fs.readFile(this.path, 'utf8')) as Partial<Note>;
      } catch {
        return false; // none (the last change was cut short), or not ours
      }
      if (note.master !== master || note.worker !== worker) return false;
      return JSON.stringify(note.files) === JSON.stringify(await this.identities());
    });
  }

  private next<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async identities(): Promise<(FileIdentity | null)[]> {
    return Promise.all(
      this.files.map(async (file) => {
        const st = await fs.stat(file, { bigint: true }).catch(() => null);
        return st === null ? null : { ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs) };
      }),
    );
  }
}

interface FileIdentity {
  readonly ino: string;
  readonly size: string;
  readonly mtimeNs: string;
}

interface Note {
  readonly master: number;
  readonly worker: number;
  readonly files: readonly (FileIdentity | null)[];
}
