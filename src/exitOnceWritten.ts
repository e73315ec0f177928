import { setImmediate as turn } from 'node:timers/promises';

/**
 * Exits with `code` once what was written to standard output and error has been handed to them.
 * For a process that something it cannot cancel would keep alive (a host-name lookup of a name server
 * that does not answer: hostResolver.ts). process.exit alone dropped what a pipe had not taken yet: a
 * reader slower than the writer got 64 KiB of a 3 MB config, and the exit code still said 0 (an audit).
 */
export async function exitOnceWritten(code: number): Promise<never> {
  await turn(); // the logger's last lines reach its streams
  await Promise.all(
    [process.stdout, process.stderr].map((stream) =>
      // What a pipe has not taken yet is counted until it has (files and terminals are written at
      // once). The callback of an empty write runs once the writes before it are done, or failed.
      stream.writableLength === 0 ? Promise.resolve() : new Promise<void>((done) => stream.write('', () => done())),
    ),
  );
  await turn(); // the streams' error handlers run (bin/marathon-lb.ts: exit code 1 for stdout's)
  // As when the process ends by itself: the exit code a failed write set stands over the command's.
  return process.exit(process.exitCode || code);
}
