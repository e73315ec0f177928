import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lockConfigDir, startTime } from '../../src/haproxy/dirLock';
import { REPO_ROOT } from '../support/paths';
import { tempDir } from '../support/render';

describe('one controller per HAProxy config directory', () => {
  test('a second controller is refused while the first runs, and gets the directory once it released it', () => {
    const dir = tempDir('mlb-lock-');
    const first = lockConfigDir(dir);
    expect(first.ok).toBe(true);
    const other = process.ppid; // a process that runs: the second controller's view of the first
    fs.writeFileSync(path.join(dir, '.marathon-lb.lock'), `${other}\n`);
    const second = lockConfigDir(dir);
    expect(second).toEqual({
      ok: false,
      error: `another controller (pid ${other}) manages the HAProxy of ${dir}: stop it, or give this one a --haproxy-config in a directory of its own`,
    });
    fs.writeFileSync(path.join(dir, '.marathon-lb.lock'), `${process.pid}\n`);
    if (first.ok) first.value.release(); // stop: released
    expect(fs.existsSync(path.join(dir, '.marathon-lb.lock'))).toBe(false);
    const third = lockConfigDir(dir);
    expect(third.ok).toBe(true);
    if (third.ok) third.value.release();
  });

  test('the lock of a controller that is gone (killed with -9) is taken over', () => {
    const dir = tempDir('mlb-lock-');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // has exited by now
    fs.writeFileSync(path.join(dir, '.marathon-lb.lock'), `${gone}\n`);
    const lock = lockConfigDir(dir);
    expect(lock.ok).toBe(true);
    expect(fs.readFileSync(path.join(dir, '.marathon-lb.lock'), 'utf8')).toBe(
      `${process.pid} ${startTime(process.pid)}\n`,
    );
    if (lock.ok) lock.value.release();
  });

  test("the lock of a controller whose pid another process has since (a reboot, pid reuse) is taken over; a lock naming that process's own start holds", () => {
    const dir = tempDir('mlb-lock-');
    const file = path.join(dir, '.marathon-lb.lock');
    const running = process.ppid; // runs, but is not the controller the lock names: it started at another time
    expect(startTime(running)).toMatch(/^\d+$/);
    fs.writeFileSync(file, `${running} 1\n`);
    const lock = lockConfigDir(dir);
    expect(lock.ok).toBe(true);
    if (lock.ok) lock.value.release();
    fs.writeFileSync(file, `${running} ${startTime(running)}\n`);
    expect(lockConfigDir(dir)).toMatchObject({ ok: false, error: expect.stringContaining(`(pid ${running})`) });
  });

  test('a release does not remove a lock another controller holds since', () => {
    const dir = tempDir('mlb-lock-');
    const lock = lockConfigDir(dir);
    fs.writeFileSync(path.join(dir, '.marathon-lb.lock'), `${process.ppid}\n`);
    if (lock.ok) lock.value.release();
    expect(fs.readFileSync(path.join(dir, '.marathon-lb.lock'), 'utf8')).toBe(`${process.ppid}\n`);
  });

  test('a lock whose file is gone (its directory removed and made again) is written again; one another controller took is named', () => {
    const dir = tempDir('mlb-lock-');
    const file = path.join(dir, '.marathon-lb.lock');
    const lock = lockConfigDir(dir);
    if (!lock.ok) throw new Error(lock.error);
    expect(lock.value.keep()).toEqual({ ok: true, value: 'held' });
    fs.rmSync(dir, { recursive: true });
    expect(lock.value.keep()).toEqual({
      ok: false,
      error: `cannot lock ${dir} again for this controller (${file}): ENOENT`,
    });
    fs.mkdirSync(dir);
    expect(lock.value.keep()).toEqual({ ok: true, value: 'written' });
    // A second controller (another pid) is refused again.
    expect(lockConfigDir(dir, process.ppid)).toMatchObject({
      ok: false,
      error: expect.stringContaining(`(pid ${process.pid})`),
    });
    fs.writeFileSync(file, `${process.ppid}\n`); // taken by another (running) controller meanwhile
    expect(lock.value.keep()).toMatchObject({ ok: false, error: expect.stringContaining(`(pid ${process.ppid})`) });
  });

  test('a lock that cannot be written (a full disk) is refused with the reason and leaves no empty file behind', () => {
    // A write that fails for real: the file size limit (ulimit -f 0) makes write(2) fail with EFBIG
    // (Node ignores SIGXFSZ), as ENOSPC does on a full disk, after the file was created. An empty
    // lock left there would let a second controller take the directory for a stale one's.
    const dir = tempDir('mlb-lock-');
    const lockModule = path.join(REPO_ROOT, 'dist', 'src', 'haproxy', 'dirLock.js');
    const code = `const r = require(${JSON.stringify(lockModule)}).lockConfigDir(${JSON.stringify(dir)}); console.log(JSON.stringify(r))`;
    const r = spawnSync('/bin/sh', ['-c', 'ulimit -f 0 && exec "$0" -e "$1"', process.execPath, code], {
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      error: `cannot lock ${dir} for this controller (${path.join(dir, '.marathon-lb.lock')}): EFBIG`,
    });
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
