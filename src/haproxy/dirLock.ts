import * as fs from 'node:fs';
import * as path from 'node:path';
import { err, ok, type Result } from '../result';
import { pidExists } from './stopSignals';

/**
 * One controller per HAProxy config directory. Two on one directory (two sidecars on one volume)
 * each took the other's HAProxy for one an earlier controller had left: they reloaded it under each
 * other, the second overwrote the first's pid file, and stopping either stopped HAProxy for both.
 * The lock is a file holding its controller's pid, created exclusively; one whose process is gone (a
 * controller killed with -9) is taken over. Returns what releases it.
 */
export function lockConfigDir(dir: string, pid = process.pid): Result<() => void> {
  const file = path.join(dir, '.marathon-lb.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${pid}\n`, { flag: 'wx' });
      return ok(() => {
        if (holder(file) === pid) fs.rmSync(file, { force: true });
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        return err(`cannot lock ${dir} for this controller (${file}): ${(e as NodeJS.ErrnoException).code}`);
    }
    const other = holder(file);
    if (other !== undefined && other !== pid && pidExists(other))
      return err(
        `another controller (pid ${other}) manages the HAProxy of ${dir}: stop it, or give this one a --haproxy-config in a directory of its own`,
      );
    fs.rmSync(file, { force: true }); // left by a controller that is gone (or by this process)
  }
  return err(`cannot lock ${dir} for this controller: ${file} keeps coming back`);
}

function holder(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
