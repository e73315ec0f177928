/**
 * Config files on disk: atomic replacement, numbered archives beside the config, tolerant reads.
 * Failures are HaproxyFileError with one line naming the file and the reason.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileErrorText } from '../fileErrorText';

export class HaproxyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HaproxyFileError';
  }
}

/**
 * The mode a replacement of `path` gets: the regular file's own, less world write and the special
 * bits (anyone who can write HAProxy's config runs code as HAProxy); 0644 for a new file, or when
 * `path` is a link or another kind of file. A link's target's mode was copied: a link to a 0666 file
 * made the config world-writable for good (helper 72); upstream's lstat gave a link's 0777.
 */
async function modeOf(path: string): Promise<number> {
  try {
    const st = await fs.lstat(path);
    return st.isFile() ? st.mode & 0o775 : 0o644;
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

/** UTF-16 units of text encoded per write: at most 768 KiB of UTF-8 in the reused buffer. */
const SLICE_UNITS = 1 << 18;

/**
 * Writes `content` at the handle's position. Text is encoded a slice at a time into one buffer used
 * again for each slice: encoding a 10 MB config whole (what writeFile does) held the event loop
 * ~80 ms, most of it faulting in a fresh buffer, and task events waited behind it. A slice ends after
 * a line break when it has one, and never between the two halves of a surrogate pair.
 */
export async function writeContent(
  handle: fs.FileHandle,
  content: string | Uint8Array,
  sliceUnits = SLICE_UNITS,
): Promise<void> {
  if (typeof content !== 'string') {
    await handle.writeFile(content);
    return;
  }
  const buf = Buffer.allocUnsafe(Math.min(sliceUnits, content.length) * 3);
  for (let from = 0; from < content.length;) {
    let end = Math.min(from + sliceUnits, content.length);
    if (end < content.length) {
      const lineEnd = content.lastIndexOf('\n', end - 1);
      if (lineEnd >= from) end = lineEnd + 1;
      else if (end - 1 > from && isHighSurrogate(content.charCodeAt(end - 1))) end -= 1;
    }
    const bytes = buf.write(content.slice(from, end));
    for (let at = 0; at < bytes;) at += (await handle.write(buf, at, bytes - at)).bytesWritten;
    from = end;
  }
}

const isHighSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;

/**
 * Replaces `path` with `content` so that readers see the old file or the new one, never a part:
 * a temp file in the same directory is written and fsynced, renamed over the target, and the
 * directory fsynced. The target keeps its mode (see modeOf; a new file gets 0644). On failure the temp file
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
      await writeContent(handle, content);
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
    throw new HaproxyFileError(`cannot write ${path}: ${fileErrorText(err)}`);
  }
}

/** The names marathon-lb archives under (marathon_lb.py `moveTempFile(..., tmp_filename)`). */
export type ArchiveName = 'hap_cfg' | 'domain_map' | 'app_map' | 'haproxy_temp_config_fail';

/** Where marathon-lb keeps its archives: `/tmp/<name>.<k>`, whatever --haproxy-config says. */
export const ARCHIVE_DIR = '/tmp';

/**
 * marathon-lb's `--archive-versions` for one file (marathon_lb.py `moveTempFile`): the copies
 * `<dir>/<name>.<k>` shift up one (for k = n-1 down to 1, `.k` is copied over `.k+1` when it
 * exists), then `content` — the version being put in place — becomes `<name>.1`. So `.1` is the
 * newest (the live one), `.n` the oldest, and no more than n are kept; with n ≤ 1 (0 included,
 * as upstream) only `.1` is written.
 */
export async function archiveCopy(
  name: ArchiveName,
  content: string,
  versions: number,
  dir: string = ARCHIVE_DIR,
): Promise<void> {
  const at = (k: number): string => join(dir, `${name}.${k}`);
  try {
    // Shifted by renaming, not copying: the same files in the end, without rewriting n configs of 10 MB.
    for (let k = versions - 1; k >= 1; k--) {
      try {
        await fs.rename(at(k), at(k + 1));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    // Written to a new file of its own, then renamed over `.1`: /tmp is everyone's, and a link planted
    // at `.1` was followed, the config written wherever it pointed (an audit). Only its owner may read
    // it: a refused config holds other apps' userlist passwords.
    const tmp = `${at(1)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const handle = await fs.open(tmp, 'wx', 0o600);
    try {
      try {
        await writeContent(handle, content);
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, at(1));
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  } catch (err) {
    throw new HaproxyFileError(`cannot archive ${at(1)}: ${fileErrorText(err)}`);
  }
}

/**
 * The archives marathon-lb keeps when a validated config is put in place, in its order: with
 * --haproxy-map the two maps (`domain_map`, `app_map`), then the config (`hap_cfg`).
 */
export async function archiveApplied(
  files: { readonly config: string; readonly maps?: { readonly domain: string; readonly app: string } },
  versions: number,
  dir: string = ARCHIVE_DIR,
): Promise<void> {
  if (files.maps !== undefined) {
    await archiveCopy('domain_map', files.maps.domain, versions, dir);
    await archiveCopy('app_map', files.maps.app, versions, dir);
  }
  await archiveCopy('hap_cfg', files.config, versions, dir);
}

/**
 * A config HAProxy refused (`haproxy -c` failed) is kept as `haproxy_temp_config_fail.<k>`, as
 * marathon-lb does. (marathon-lb also leaves a copy named `haproxy_tmp_conf_fail` in its working
 * directory; that copy, the same text as `.1`, is not made.)
 */
export function archiveRejected(config: string, versions: number, dir: string = ARCHIVE_DIR): Promise<void> {
  return archiveCopy('haproxy_temp_config_fail', config, versions, dir);
}

/** The most a config, map or pid file is read to: a 10 000-app config is ~6 MB. */
export const MAX_READ_BYTES = 256 * 2 ** 20;

/**
 * The regular file's text, or undefined when there is none: nothing at the path, or a FIFO, socket or
 * device (a link to one included), which is never read. Opened without blocking: a FIFO or a link to
 * `/dev/full` left at the config's path held the controller's start for good or filled its memory
 * (helper 72); as nothing to read, it is replaced by the next write like a missing file. A directory
 * is an error (nothing can replace it).
 */
export async function readIfExists(path: string, maxBytes = MAX_READ_BYTES): Promise<string | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
  } catch (err) {
    // ENXIO: a socket.
    if (['ENOENT', 'ENXIO'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw new HaproxyFileError(`cannot read ${path}: ${fileErrorText(err)}`);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new HaproxyFileError(`cannot read ${path}: illegal operation on a directory (EISDIR)`);
    if (!st.isFile()) return undefined;
    if (st.size > maxBytes) throw new HaproxyFileError(`cannot read ${path}: larger than ${maxBytes / 2 ** 20} MiB`);
    return await handle.readFile('utf8');
  } catch (err) {
    if (err instanceof HaproxyFileError) throw err;
    throw new HaproxyFileError(`cannot read ${path}: ${fileErrorText(err)}`);
  } finally {
    await handle.close();
  }
}
