import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ServedMark } from '../../src/haproxy/servedMark';

/** The note that HAProxy's worker runs the files on disk (src/haproxy/servedMark.ts), on real files. */
describe('ServedMark', () => {
  let dir: string;
  let files: string[];
  let mark: ServedMark;
  const worker = { master: 10, worker: 11 };
  const serving = () => Promise.resolve(worker);
  const onDisk = () => Promise.resolve(true);
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-served-'));
    files = [path.join(dir, 'haproxy.cfg'), path.join(dir, 'domain2backend.map')];
    fs.writeFileSync(files[0]!, 'global\n');
    mark = new ServedMark(path.join(dir, 'haproxy.pid.served'), files);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('holds for the worker it names while the files stay as they were written', async () => {
    await mark.record(serving, onDisk);
    expect(await mark.holds(10, 11)).toBe(true);
    expect(await mark.holds(10, 12)).toBe(false); // reloaded since
    expect(await mark.holds(9, 11)).toBe(false);
    expect(await new ServedMark(path.join(dir, 'haproxy.pid.served'), files).holds(10, 11)).toBe(true); // a new controller reads it
  });

  test('does not hold once a file is written again, created or removed, or after a clear', async () => {
    for (const change of [
      () => fs.writeFileSync(files[0]!, 'global\n'),
      () => fs.writeFileSync(files[1]!, ''),
      () => fs.rmSync(files[0]!),
    ]) {
      fs.writeFileSync(files[0]!, 'global\n');
      fs.rmSync(files[1]!, { force: true });
      await mark.record(serving, onDisk);
      expect(await mark.holds(10, 11)).toBe(true);
      await new Promise((r) => setTimeout(r, 20)); // a later modification time: the kernel's file clock ticks per jiffy
      change();
      expect(await mark.holds(10, 11)).toBe(false);
    }
    await mark.record(serving, onDisk);
    await mark.clear();
    expect(await mark.holds(10, 11)).toBe(false);
  });

  test('writes nothing when the files are not on disk, or when a clear came while it waited for them', async () => {
    await mark.record(serving, () => Promise.resolve(false));
    expect(await mark.holds(10, 11)).toBe(false);
    let written!: (on: boolean) => void;
    const pending = mark.record(serving, () => new Promise<boolean>((r) => (written = r)));
    await mark.clear(); // the next change starts before the files of the last one are written
    written(true);
    await pending;
    expect(await mark.holds(10, 11)).toBe(false);
  });

  test("a note that cannot be removed names the real cause (an immutable directory: EPERM, not rm's ENOTDIR)", async () => {
    await mark.record(serving, onDisk);
    await mark.clear(); // no note: nothing to remove, no error
    await mark.record(serving, onDisk);
    // Root ignores file modes; an immutable directory refuses root too (ext4, as on this machine and CI).
    const chattr = (flag: string) => execFileSync('chattr', [flag, dir]);
    chattr('+i');
    try {
      await expect(mark.clear()).rejects.toMatchObject({ code: 'EPERM' });
    } finally {
      chattr('-i');
    }
    await mark.clear();
    expect(fs.existsSync(path.join(dir, 'haproxy.pid.served'))).toBe(false);
  });
});
