/**
 * Exits with `code` once what was written to standard output and error has been handed to them.
 * For a process that something it cannot cancel would keep alive (a host-name lookup of a name server
 * that does not answer: hostResolver.ts). process.exit alone dropped what a pipe had not taken yet: a
 * reader slower than the writer got 64 KiB of a 3 MB config, and the exit code still said 0 (an audit).
 */
export async function exitOnceWritten(code: number): Promise<never> {
  await new Promise((turn) => setImmediate(turn)); // the logger's last lines reach its streams
  await Promise.all(
    [process.stdout, process.stderr].map(
      // Writes complete in order: the callback of an empty write runs once those before it are done
      // (or failed: a reader that went away has nothing more to get).
      (stream) => new Promise<void>((done) => stream.write('', () => done())),
    ),
  );
  return process.exit(code);
}
