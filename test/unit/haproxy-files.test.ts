import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HaproxyFileError, readIfExists, writeAtomic } from '../../src/haproxy/files';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-files-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const listing = (): string[] => fs.readdirSync(dir).sort();
const modeOf = (p: string): number => fs.statSync(p).mode & 0o7777;

describe('writeAtomic', () => {
  it('creates a new file with mode 0644 and leaves no temp file', async () => {
    const cfg = path.join(dir, 'haproxy.cfg');
    await writeAtomic(cfg, 'global\n');
    expect(fs.readFileSync(cfg, 'utf8')).toBe('global\n');
    expect(modeOf(cfg)).toBe(0o644);
    expect(listing()).toEqual(['haproxy.cfg']);
  });

  it('replaces an existing file and keeps its mode', async () => {
    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(cfg, 'old');
    fs.chmodSync(cfg, 0o600);
    await writeAtomic(cfg, Buffer.from('new'));
    expect(fs.readFileSync(cfg, 'utf8')).toBe('new');
    expect(modeOf(cfg)).toBe(0o600);
    expect(listing()).toEqual(['haproxy.cfg']);
  });

  it('replaces by rename: a reader holding the old file still reads the old text', async () => {
    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(cfg, 'old text');
    const fd = fs.openSync(cfg, 'r');
    try {
      await writeAtomic(cfg, 'new text');
      expect(fs.readFileSync(fd, 'utf8')).toBe('old text');
      expect(fs.readFileSync(cfg, 'utf8')).toBe('new text');
    } finally {
      fs.closeSync(fd);
    }
  });

  it('fails with one line naming the file, removes its temp file and leaves the target as it was', async () => {
    const target = path.join(dir, 'haproxy.cfg');
    fs.mkdirSync(target); // renaming a file over a directory fails
    fs.writeFileSync(path.join(target, 'keep'), 'x');
    const err = await writeAtomic(target, 'text').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HaproxyFileError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot write ${target}: .+\\(E[A-Z]+\\)$`));
    expect(listing()).toEqual(['haproxy.cfg']);
    expect(fs.readdirSync(target)).toEqual(['keep']);
  });

  it('fails clearly when the directory does not exist', async () => {
    const target = path.join(dir, 'missing', 'haproxy.cfg');
    await expect(writeAtomic(target, 'x')).rejects.toThrow(
      `cannot write ${target}: no such file or directory (ENOENT)`,
    );
  });
});

describe('readIfExists', () => {
  it('reads a file, gives undefined for a missing one and a clear error otherwise', async () => {
    const cfg = path.join(dir, 'haproxy.cfg');
    expect(await readIfExists(cfg)).toBeUndefined();
    fs.writeFileSync(cfg, 'text');
    expect(await readIfExists(cfg)).toBe('text');
    await expect(readIfExists(dir)).rejects.toThrow(`cannot read ${dir}: illegal operation on a directory (EISDIR)`);
  });
});
