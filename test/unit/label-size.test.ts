import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI } from '../support/paths';
import { tempDir } from '../support/render';

/**
 * HAProxy reads a config line of megabytes (2.6 checks a 5 MB line without a word), so a label that
 * long is served. What the controller makes of it must stay in proportion: an app owner's label must
 * not take the memory every other app's routing needs. The CLI runs with its old-space heap capped at
 * 64 MiB, about a dozen times each label: scanning it a character at a time (one rope node per
 * character) ran out of that heap.
 */
describe('a label of megabytes is served within a bounded heap', () => {
  const MB = 1 << 20;
  const filler = (n: number, unit: string) => unit.repeat(Math.floor(n / unit.length));
  const plain = filler(5 * MB, 'x');
  // Quotes, escapes, `$` and `#` (the characters every scanner looks at) in one word: HAProxy takes
  // at most 64 words a line.
  const busy = filler(5 * MB, 'a\\ b"c$d"e\\#f');
  const cases: [string, Record<string, string>, string][] = [
    [
      'a per-app template with a long comment',
      { HAPROXY_0_BACKEND_HEAD: `\nbackend {backend}\n  # ${plain}\n` },
      plain,
    ],
    [
      'a per-app template with quotes, escapes, "$" and "#"',
      { HAPROXY_0_BACKEND_HEAD: `\nbackend {backend}\n  http-request add-header X-A ${busy}\n` },
      'http-request add-header X-A a\\ b"c\\$d"e\\#fa\\ b"c\\$d"e\\#f',
    ],
    [
      'a per-app template with {{ and }}',
      { HAPROXY_0_BACKEND_HEAD: `\nbackend {backend}\n  # ${filler(5 * MB, 'ab{{c}}')}\n` },
      '# ab{c}ab{c}',
    ],
    ['a path', { HAPROXY_0_VHOST: 'a.example.com', HAPROXY_0_PATH: `/${plain}` }, `/${plain}`],
    ['a redirect', { HAPROXY_0_VHOST: 'a.example.com', HAPROXY_0_HTTP_BACKEND_REDIR: `/${plain}` }, `/${plain}`],
  ];
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(cases)('%s', (_name, labels, printed) => {
    const file = path.join(dir, 'apps.json');
    const app = (id: string, own: Record<string, string>, port: number) => ({
      id,
      labels: { HAPROXY_GROUP: 'external', ...own },
      portDefinitions: [{ port }],
      tasks: [{ id: `${id.slice(1)}.1`, host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
    });
    fs.writeFileSync(file, JSON.stringify({ apps: [app('/big', labels, 10000), app('/small', {}, 10001)] }));
    const r = spawnSync(
      process.execPath,
      ['--max-old-space-size=64', CLI, '--dry', '--apps-file', file, '--group', 'external'],
      { encoding: 'utf8', maxBuffer: 64 * MB, timeout: 60000, env: { PATH: process.env.PATH } },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(printed);
    expect(r.stdout).toMatch(/^backend big_10000$/m);
    expect(r.stdout).toMatch(/^backend small_10001$/m);
  });
});
