import * as fs from 'node:fs';
import * as path from 'node:path';
import { err, ok, type Result } from './result';

/**
 * `mkdir -p`: each missing directory made in turn, from below the deepest one that exists. Not
 * fs.mkdir's `recursive`: Node 20 loops for ever in it (one core at 100 %, SIGTERM never handled)
 * where mkdir answers ENOENT under a parent that exists, as under /proc (`--haproxy-config
 * /proc/x/haproxy.cfg` hung the service at its start). Throws the error of the first directory it
 * cannot make (ENOENT, EACCES, EROFS, …), or ENOTDIR when a file is in the way.
 */
export function ensureDirectory(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const found = fs.statSync(d, { throwIfNoEntry: false });
    if (found !== undefined) {
      if (found.isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', path: d });
    }
    missing.push(d);
    if (path.dirname(d) === d) break; // the root itself is missing: mkdir says why
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      fs.mkdirSync(missing[i]!);
    } catch (e) {
      // Made meanwhile by another process: what matters is that it is there.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(missing[i]!).isDirectory()) throw e;
    }
  }
}

/** The --haproxy-config directory made if missing, or the message that names it and why it cannot be. */
export function ensureConfigDirectory(dir: string): Result<void> {
  try {
    ensureDirectory(dir);
    return ok(undefined);
  } catch (e) {
    return err(`cannot create ${dir} for --haproxy-config: ${(e as NodeJS.ErrnoException).code}`);
  }
}
