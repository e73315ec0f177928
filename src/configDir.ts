import * as fs from 'node:fs';
import * as path from 'node:path';

/** Walks up from `start` to the directory holding config/templates/catalog.json. */
export function findConfigDir(start: string = __dirname): string {
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, 'config');
    if (fs.existsSync(path.join(candidate, 'templates', 'catalog.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no config/templates/catalog.json above ${start}`);
    dir = parent;
  }
}
