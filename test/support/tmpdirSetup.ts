import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The run's temporary files go into one directory, removed at its end (tmpdirTeardown.ts). Tests
 * make hundreds of directories with mkdtemp, and the processes they start make more; os.tmpdir()
 * reads TMPDIR at each call, and jest's workers and their children inherit it from here, so none of
 * that piles up in a developer's or a CI machine's /tmp. (Set here, in jest's own process: a test
 * file sees a copy of process.env that os.tmpdir() does not read.)
 */
export default function setup(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-jest-'));
  process.env['JEST_MLB_TMPDIR'] = dir;
  process.env['JEST_MLB_TMPDIR_BEFORE'] = process.env['TMPDIR'] ?? '';
  process.env['TMPDIR'] = dir;
}
