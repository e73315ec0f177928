/** Shared by the isolation chaos tests: an HAProxy that counts its `-c` runs. */
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * A `haproxy` in `dir` that logs each `haproxy -c` and runs the real one; `checks()` counts them.
 * While `failChecks(true)`, every `haproxy -c` fails, naming no app (a broken global template, say).
 * With `hang`, a `haproxy -c` of a config holding its text takes its seconds, then runs (by default
 * it never ends, as HAProxy reading a FIFO would); `hangs()` counts them.
 */
export function countingHaproxy(
  dir: string,
  realBin: string,
  hang?: { readonly on: string; readonly seconds?: number },
): {
  readonly bin: string;
  readonly checks: () => number;
  readonly hangs: () => number;
  /** The pids of the checks that hung (each `exec`s its sleep: the pid stays). */
  readonly hangPids: () => number[];
  failChecks(on: boolean): void;
} {
  const bin = path.join(dir, 'haproxy');
  const log = path.join(dir, 'checks.log');
  const fail = path.join(dir, 'fail-checks');
  // The config is the argument after -f; `exec sleep` keeps one process for the check's timeout to kill.
  const hanging =
    hang === undefined
      ? ''
      : `; cfg=; prev=; for a in "$@"; do [ "$prev" = -f ] && cfg=$a; prev=$a; done; grep -qF '${hang.on}' "$cfg" && { echo $$ >> ${log}.hangs; ${hang.seconds === undefined ? 'exec sleep 600' : `sleep ${hang.seconds}`}; }`;
  writeFileSync(
    bin,
    `#!/bin/sh\ncase " $* " in *" -c "*) echo check >> ${log}; [ -e ${fail} ] && { echo "[ALERT] (1) : config : refused by the test" >&2; exit 1; }${hanging};; esac\nexec ${realBin} "$@"\n`,
  );
  writeFileSync(`${log}.hangs`, '');
  chmodSync(bin, 0o755);
  writeFileSync(log, '');
  return {
    bin,
    checks: () => linesOf(log),
    hangs: () => linesOf(`${log}.hangs`),
    hangPids: () =>
      readFileSync(`${log}.hangs`, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map(Number),
    failChecks: (on) => (on ? writeFileSync(fail, '') : rmSync(fail, { force: true })),
  };
}

const linesOf = (file: string): number =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '').length;
