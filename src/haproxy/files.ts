/**
 * Config files on disk: atomic replacement, numbered archives beside the config, tolerant reads.
 * Failures are HaproxyFileError with one line naming the file and the reason.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export class HaproxyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HaproxyFileError';
  }
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (!e?.code) return String(e?.message ?? err);
  const text = e.message.replace(/^\w+: /, '').replace(/, \w+( '.*')?( -> '.*')?$/, '');
  return `${text} (${e.code})`;
}

async function modeOf(path: string): Promise<number> {
  try {
    return (await fs.stat(path)).mode & 0o7777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0o644;
    throw err;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `content` so that readers see the old file or the new one, never a part:
 * a temp file in the same directory is written and fsynced, renamed over the target, and the
 * directory fsynced. The target keeps its mode (a new file gets 0644). On failure the temp file
 * is removed and the target is untouched.
 */
export async function writeAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let created = false;
  try {
    const mode = await modeOf(path);
    const handle = await fs.open(tmp, 'wx', mode);
    created = true;
    try {
      await handle.writeFile(content);
      await handle.chmod(mode); // the umask may have narrowed it
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path);
    created = false;
    await fsyncDir(dir);
  } catch (err) {
    if (created) await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new HaproxyFileError(`cannot write ${path}: ${reason(err)}`);
  }
}

/**
 * Keeps the current `file` as `<file>.1` before it is replaced, shifting older copies up to
 * `<file>.<n>` (newest .1, the oldest beyond n dropped) — marathon-lb's backups of earlier
 * configs, kept beside the config. n = 0 keeps none. A missing `file` is nothing to archive.
 */
export async function archiveVersions(file: string, n: number): Promise<void> {
  if (!Number.isInteger(n) || n < 0) throw new HaproxyFileError(`archive count for ${file} must be a whole number ≥ 0, got ${n}`);
  if (n === 0) return;
  try {
    try {
      await fs.access(file);
    } catch {
      return;
    }
    await fs.rm(`${file}.${n}`, { force: true });
    for (let i = n - 1; i >= 1; i--) {
      try {
        await fs.rename(`${file}.${i}`, `${file}.${i + 1}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const copy = `${file}.1`;
    const tmp = `${copy}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.copyFile(file, tmp);
    await fs.rename(tmp, copy);
  } catch (err) {
    throw new HaproxyFileError(`cannot archive ${file}: ${reason(err)}`);
  }
}

/** The file's text, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HaproxyFileError(`cannot read ${path}: ${reason(err)}`);
  }
}
