import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureDirectory } from '../../src/ensureDirectory';
import { tempDir } from '../support/render';

/** The error code ensureDirectory throws, or undefined. */
function codeOf(dir: string): string | undefined {
  try {
    ensureDirectory(dir);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
}

describe('ensureDirectory (mkdir -p)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('makes every missing directory, and leaves one that exists as it is', () => {
    const deep = path.join(dir, 'a', 'b', 'c');
    ensureDirectory(deep);
    expect(fs.statSync(deep).isDirectory()).toBe(true);
    fs.writeFileSync(path.join(deep, 'kept'), 'x');
    ensureDirectory(deep);
    ensureDirectory(`${dir}/a/./b/../b/c/`);
    expect(fs.readdirSync(deep)).toEqual(['kept']);
  });

  test('a file in the way: ENOTDIR, nothing made', () => {
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    expect(codeOf(path.join(dir, 'file', 'sub'))).toBe('ENOTDIR');
    expect(fs.readdirSync(dir)).toEqual(['file']);
  });

  test('where mkdir answers ENOENT under a directory that exists (/proc): that error, at once', () => {
    expect(codeOf('/proc/mlb-no-such-dir/a')).toBe('ENOENT');
  });
});
