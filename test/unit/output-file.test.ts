import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OutputFile } from '../../src/haproxy/outputFile';
import { REPO_ROOT } from '../support/paths';
import { tempDir } from '../support/render';

describe("HAProxy's output file", () => {
  test('is made in the first directory that takes it, has no name there, and reads what is appended, in pieces', () => {
    const dir = tempDir('mlb-out-');
    const out = OutputFile.createIn([path.join(dir, 'missing'), dir]);
    if (!(out instanceof OutputFile)) throw new Error(out.error);
    try {
      expect(fs.readdirSync(dir)).toEqual([]);
      fs.writeSync(out.writeFd, 'one\ntw');
      expect(out.readNew()).toBe('one\ntw');
      expect(out.readNew()).toBe('');
      // A character split between two writes comes out whole.
      const euro = Buffer.from('€');
      fs.writeSync(out.writeFd, euro.subarray(0, 1));
      expect(out.readNew()).toBe('');
      fs.writeSync(out.writeFd, euro.subarray(1));
      expect(out.readNew()).toBe('€');
    } finally {
      out.close();
    }
  });

  test('is emptied once read past 1 MiB, and goes on from its start', () => {
    const out = OutputFile.createIn([tempDir('mlb-out-')]);
    if (!(out instanceof OutputFile)) throw new Error(out.error);
    try {
      const line = `${'x'.repeat(1023)}\n`;
      fs.writeSync(out.writeFd, line.repeat(1100));
      let read = '';
      for (let text = out.readNew(); text !== ''; text = out.readNew()) read += text;
      expect(read.length).toBe(1024 * 1100);
      expect(fs.fstatSync(out.writeFd).size).toBe(0);
      fs.writeSync(out.writeFd, 'next\n');
      expect(out.readNew()).toBe('next\n');
    } finally {
      out.close();
    }
  });

  test('a directory where it cannot be written (no room) is passed over, and none named with why', () => {
    // A write that fails for real: the file size limit (ulimit -f 16, 8 KiB) fails write(2) with EFBIG, as
    // a full file system fails it with ENOSPC, after the file was made. An audit: a full TMPDIR took
    // the file and none of HAProxy's lines.
    const dir = tempDir('mlb-out-');
    const outputModule = path.join(REPO_ROOT, 'dist', 'src', 'haproxy', 'outputFile.js');
    const code = `const { OutputFile } = require(${JSON.stringify(outputModule)}); const r = OutputFile.createIn([${JSON.stringify(dir)}]); console.log(JSON.stringify(r instanceof OutputFile ? 'made' : r))`;
    const r = spawnSync('/bin/sh', ['-c', 'ulimit -f 16 && exec "$0" -e "$1"', process.execPath, code], {
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ error: `${dir}: EFBIG` });
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
