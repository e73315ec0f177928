/** Shared by the isolation chaos tests: an HAProxy that counts its `-c` runs. */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** A `haproxy` in `dir` that logs each `haproxy -c` and runs the real one; `checks()` counts them. */
export function countingHaproxy(dir: string, realBin: string): { readonly bin: string; readonly checks: () => number } {
  const bin = path.join(dir, 'haproxy');
  const log = path.join(dir, 'checks.log');
  writeFileSync(bin, `#!/bin/sh\ncase " $* " in *" -c "*) echo check >> ${log};; esac\nexec ${realBin} "$@"\n`);
  chmodSync(bin, 0o755);
  writeFileSync(log, '');
  return {
    bin,
    checks: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l !== '').length,
  };
}
