import * as fs from 'node:fs';
import * as path from 'node:path';
import { compatCases } from '../support/paths';
import { cfgdiff, dryRun, tempDir } from '../support/render';

/**
 * Every case rendered by the original marathon-lb (../shared/compat) must come out semantically
 * equal, maps included. Map cases render with --haproxy-config in a temp dir; the expected files
 * name /etc/haproxy, so that directory is rewritten before comparing (see the corpus README).
 * `--haproxy-version 2.0`: marathon-lb's text exactly, whatever HAProxy this machine has (contract 2).
 */
describe('marathon-lb compatibility corpus', () => {
  const cases = compatCases();
  test('the corpus is there', () => expect(cases.length).toBeGreaterThanOrEqual(112));

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const dir = tempDir();
    try {
      const run = await dryRun([
        '--apps-file',
        path.join(c.dir, 'apps.json'),
        '--haproxy-config',
        path.join(dir, 'haproxy.cfg'),
        '--haproxy-version',
        '2.0',
        ...c.args,
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const actual = path.join(dir, 'actual.cfg');
      fs.writeFileSync(actual, run.stdout.split(dir).join('/etc/haproxy'));
      expect(cfgdiff(path.join(c.dir, 'expected.cfg'), actual)).toBe('');
      if (c.hasMaps) {
        for (const map of ['domain2backend.map', 'app2backend.map']) {
          expect(cfgdiff(path.join(c.dir, map), path.join(dir, map), true)).toBe('');
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
