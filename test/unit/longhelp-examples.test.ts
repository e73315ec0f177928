/**
 * Every label example marathon-lb's documentation gives (`--longhelp`, Longhelp.md upstream) is
 * served: checks that keep hostile labels out must not refuse what the docs tell users to write.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildLongHelp, loadLongHelpData } from '../../src/cli/longhelp';
import { dryRun, tempDir } from '../support/render';

const text = buildLongHelp('', loadLongHelpData());
/** `"HAPROXY_0_NAME": "…"` lines: template label examples, JSON already. */
const templateExamples = text
  .split('\n')
  .filter((l) => l.startsWith('"HAPROXY_0_'))
  .map((l) => Object.entries(JSON.parse(`{${l}}`) as Record<string, string>)[0]!);
/** "Ex: `HAPROXY_0_NAME = 'value'`" lines: the other labels. */
const labelExamples = [...text.matchAll(/^Ex: `(HAPROXY_0_\w+) *= *'?([^'`]*)'?`/gm)].map(
  (m) => [m[1]!, m[2]!] as const,
);

/**
 * Left aside: examples naming what this machine has not (a certificate file, port 80 of the :80
 * frontend), and the HTTP_BACKEND_REDIR template's, whose label name is the redirect path's label
 * (upstream documents both under one name; the label is read as the path).
 */
const LEFT_ASIDE = new Set(['HAPROXY_0_SSL_CERT', 'HAPROXY_0_PORT', 'HAPROXY_0_HTTP_BACKEND_REDIR']);

describe("marathon-lb's documented label examples are served", () => {
  test('the docs hold the examples', () => {
    expect(templateExamples.length).toBeGreaterThanOrEqual(40);
    expect(labelExamples.length).toBeGreaterThanOrEqual(15);
  });

  test.each([...templateExamples, ...labelExamples].filter(([name]) => !LEFT_ASIDE.has(name)))(
    '%s',
    async (name, value) => {
      const dir = tempDir();
      try {
        const file = path.join(dir, 'apps.json');
        const labels: Record<string, string> = {
          HAPROXY_GROUP: 'external',
          HAPROXY_0_VHOST: 'app.example.com',
          [name]: value,
        };
        const app = {
          id: '/app',
          instances: 1,
          labels,
          portDefinitions: [{ port: 10001 }],
          tasks: [{ id: 'app.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
        };
        fs.writeFileSync(file, JSON.stringify({ apps: [app] }));
        // The MAP_* templates apply with --haproxy-map only.
        const map = name.includes('_MAP_') ? ['--haproxy-map'] : [];
        const run = await dryRun(['--apps-file', file, '--group', 'external', ...map]);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        expect(run.stdout).toContain('backend app_10001');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
