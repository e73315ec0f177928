import * as fs from 'node:fs';
import * as path from 'node:path';

/** marathon-lb's version from its package.json (found from src/ and from dist/src/); 'unknown' when it cannot be read. */
export function packageVersion(): string {
  for (const dir of [path.join(__dirname, '..', '..'), path.join(__dirname, '..', '..', '..')]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        readonly name?: unknown;
        readonly version?: unknown;
      };
      if (typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here
    }
  }
  return 'unknown';
}
