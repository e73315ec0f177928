/** Shared by the isolation chaos tests: an HAProxy that counts its `-c` runs. */
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * A `haproxy` in `dir` that logs each `haproxy -c` and runs the real one; `checks()` counts them.
 * While `failChecks(true)`, every `haproxy -c` fails, naming no app (a broken global template, say).
 */
export function countingHaproxy(
  dir: string,
  realBin: string,
): { readonly bin: string; readonly checks: () => number; failChecks(on: boolean): void } {
  const bin = path.join(dir, 'haproxy');
  const log = path.join(dir, 'checks.log');
  const fail = path.join(dir, 'fail-checks');
  writeFileSync(
    bin,
    `#!/bin/sh\ncase " $* " in *" -c "*) echo check >> ${log}; [ -e ${fail} ] && { echo "[ALERT] (1) : config : refused by the test" >&2; exit 1; };; esac\nexec ${realBin} "$@"\n`,
  );
  chmodSync(bin, 0o755);
  writeFileSync(log, '');
  return {
    bin,
    checks: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l !== '').length,
    failChecks: (on) => (on ? writeFileSync(fail, '') : rmSync(fail, { force: true })),
  };
}
