import * as fs from 'node:fs';

/** Removes the run's temporary directory made by tmpdirSetup.ts. */
export default function teardown(): void {
  const dir = process.env['JEST_MLB_TMPDIR'];
  if (dir === undefined) return;
  const before = process.env['JEST_MLB_TMPDIR_BEFORE'];
  if (before) process.env['TMPDIR'] = before;
  else delete process.env['TMPDIR'];
  fs.rmSync(dir, { recursive: true, force: true });
}
