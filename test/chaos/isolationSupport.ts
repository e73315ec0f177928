/** Shared by the isolation chaos tests: free port blocks and an HAProxy that counts its `-c` runs. */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

/** `count` consecutive loopback ports below the ephemeral range that are free right now. */
export async function freeBlock(count: number): Promise<number> {
  const canBind = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 20; attempt++) {
    const start = 20000 + Math.floor(Math.random() * (31000 - 20000 - count));
    let ok = true;
    for (let p = start; p < start + count && ok; p++) ok = await canBind(p);
    if (ok) return start;
  }
  throw new Error(`no block of ${count} free loopback ports found`);
}

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
