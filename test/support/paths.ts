import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** ../shared beside the clone (developers and CI both have it). */
const SHARED_DIR = path.resolve(REPO_ROOT, '..', 'shared');
export const COMPAT_CASES_DIR = path.join(SHARED_DIR, 'compat', 'cases');
export const CFGDIFF = path.join(SHARED_DIR, 'tools', 'cfgdiff.mjs');
export const CLI = path.join(REPO_ROOT, 'dist', 'src', 'bin', 'marathon-lb.js');

export interface CompatCase {
  readonly name: string;
  readonly dir: string;
  /** marathon_lb.py flags, split like a shell would (the corpus only quotes with ''). */
  readonly args: string[];
  readonly hasMaps: boolean;
}

export function compatCases(): CompatCase[] {
  if (!fs.existsSync(COMPAT_CASES_DIR)) {
    throw new Error(`compat corpus not found at ${COMPAT_CASES_DIR}: clone the project beside ../shared`);
  }
  return fs
    .readdirSync(COMPAT_CASES_DIR)
    .sort()
    .map((name) => {
      const dir = path.join(COMPAT_CASES_DIR, name);
      const line = fs.readFileSync(path.join(dir, 'args'), 'utf8').trim();
      const args = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
      return { name, dir, args, hasMaps: fs.existsSync(path.join(dir, 'domain2backend.map')) };
    });
}
