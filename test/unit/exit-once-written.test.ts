import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/paths';

/**
 * exitOnceWritten (src/exitOnceWritten.ts) in a real process whose stdout is a pipe read slowly:
 * process.exit alone dropped what the pipe had not taken yet (64 KiB of a 3 MB config arrived).
 */
describe('exitOnceWritten', () => {
  test('a slow reader of the pipe gets all of the output, and the exit code is the one given', async () => {
    const module = path.join(REPO_ROOT, 'dist', 'src', 'exitOnceWritten.js');
    const bytes = 3 * 2 ** 20;
    const script = `
      process.stdout.write('x'.repeat(${bytes}));
      process.stderr.write('y'.repeat(${bytes}));
      setInterval(() => undefined, 1000); // something the process cannot cancel keeps it alive
      require('node:fs').writeSync(3, 'exiting\\n');
      require(${JSON.stringify(module)}).exitOnceWritten(3);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const [, stdout, stderr, marker] = child.stdio as unknown as [
      null,
      NodeJS.ReadableStream,
      NodeJS.ReadableStream,
      NodeJS.ReadableStream,
    ];
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    stdout.pause();
    stderr.pause();
    // The reader takes nothing until the child is on its way out.
    await new Promise((r) => marker.once('data', r));
    const read = (stream: NodeJS.ReadableStream): Promise<number> =>
      new Promise((resolve) => {
        let n = 0;
        stream.on('data', (chunk: Buffer) => (n += chunk.length));
        stream.on('end', () => resolve(n));
        stream.resume();
      });
    const [out, err] = await Promise.all([read(stdout), read(stderr)]);
    expect({ out, err, code: await exited }).toEqual({ out: bytes, err: bytes, code: 3 });
  });

  test('standard output that cannot be written (/dev/full) keeps the exit code its error set', async () => {
    const module = path.join(REPO_ROOT, 'dist', 'src', 'exitOnceWritten.js');
    // As bin/marathon-lb.ts: a failed write to standard output is exit code 1, whatever the command's.
    const script = `
      process.stdout.on('error', () => (process.exitCode = 1));
      process.stdout.write('x'.repeat(1 << 20));
      setInterval(() => undefined, 1000);
      require(${JSON.stringify(module)}).exitOnceWritten(0);`;
    const full = fs.openSync('/dev/full', 'w');
    try {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', full, 'inherit'] });
      expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(1);
    } finally {
      fs.closeSync(full);
    }
  });
});
