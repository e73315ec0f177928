import * as fs from 'node:fs';
import * as path from 'node:path';
import { dryRun, tempDir } from '../support/render';

const app = (id: string, port: number, labels: Record<string, string>): Record<string, unknown> => ({
  id,
  instances: 1,
  labels: { HAPROXY_GROUP: 'external', ...labels },
  portDefinitions: [{ port }],
  tasks: [{ id: `t${port}`, host: '10.0.0.9', ports: [31000], state: 'TASK_RUNNING' }],
});

async function dry(apps: readonly Record<string, unknown>[]): Promise<{ stderr: string; config: string }> {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'apps.json');
    fs.writeFileSync(file, JSON.stringify({ apps }));
    const run = await dryRun(['--apps-file', file, '--group', 'external']);
    expect(run.code).toBe(0);
    return { stderr: run.stderr, config: run.stdout };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A label's placeholders fill in at most 64 KiB beyond its own text (an audit: `{backend}` 110 000
 * times with a 1 000-character id made 110 MB of config from 1 MB of JSON; the live controller then
 * failed every apply on a config too big to read, every app's change with it).
 */
describe("a template label's placeholders fill in a bounded text", () => {
  const longId = `/${'a'.repeat(500)}`;
  const head = (comment: string): string => `\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  # ${comment}\n`;

  test.each([
    ['{backend} 1 000 times', '{backend}'.repeat(1000), 'HAPROXY_0_BACKEND_HEAD'],
    ['a wide format spec 100 times', '{backend:>4000}'.repeat(100), 'HAPROXY_0_BACKEND_HEAD'],
  ])('%s: the port is left out, the other app kept', async (_name, repeated, label) => {
    const { stderr, config } = await dry([app('/good', 10001, {}), app(longId, 10002, { [label]: head(repeated) })]);
    expect(stderr).toMatch(
      new RegExp(
        `label ${label}: with its placeholders filled in, it is longer than \\d+ characters \\(its own text and 64 KiB`,
      ),
    );
    expect(config).toContain('\nbackend good_10001\n');
    expect(config).not.toContain('aaaa_10002');
    expect(config.length).toBeLessThan(100_000);
  });

  test('a label filling in its long id 100 times is served (64 KiB of values)', async () => {
    const { stderr, config } = await dry([
      app(longId, 10002, { HAPROXY_0_BACKEND_HEAD: head('{backend}'.repeat(100)) }),
    ]);
    expect(stderr).not.toMatch(/left out/);
    expect(config).toContain(`  # ${`${longId.slice(1)}_10002`.repeat(100)}\n`);
  });
});

/**
 * A label rendered for each server repeats its text as often (an audit: 1 MB in a server template
 * made 280 MB of config from 280 tasks): a service's labels render their own text once, 64 KiB of
 * values and 4 KiB a server, in all.
 */
describe("a service's labels render a bounded text in all", () => {
  const withTasks = (id: string, port: number, n: number, labels: Record<string, string>): Record<string, unknown> => ({
    ...app(id, port, labels),
    tasks: Array.from({ length: n }, (_, i) => ({
      id: `${id.slice(1)}.${i}`,
      host: `10.0.${i >> 8}.${i & 255}`,
      ports: [31000],
      state: 'TASK_RUNNING',
    })),
  });
  const serverLine = (comment: string): string =>
    `  server {serverName} {host_ipv4}:{port}{cookieOptions}{healthCheckOptions}{otherOptions}\n  # ${comment}\n`;

  test('a server template of 200 KB for 40 tasks: left out, the other app kept', async () => {
    const { stderr, config } = await dry([
      app('/good', 10001, {}),
      withTasks('/big', 10002, 40, { HAPROXY_0_BACKEND_SERVER_OPTIONS: serverLine('x'.repeat(200_000)) }),
    ]);
    expect(stderr).toMatch(
      /label HAPROXY_0_BACKEND_SERVER_OPTIONS: its labels render more than \d+ characters for 40 server\(s\)/,
    );
    expect(config).toContain('\nbackend good_10001\n');
    expect(config).not.toContain('big_10002');
    expect(config.length).toBeLessThan(100_000);
  });

  test('a server template of 1 KB for 2 000 tasks is served', async () => {
    const { stderr, config } = await dry([
      withTasks('/many', 10002, 2000, { HAPROXY_0_BACKEND_SERVER_OPTIONS: serverLine('y'.repeat(1000)) }),
    ]);
    expect(stderr).not.toMatch(/left out/);
    expect(config.split(`# ${'y'.repeat(1000)}\n`)).toHaveLength(2001);
  });
});

/**
 * marathon-lb reads `HAPROXY_{i}_…` for each port i, so `HAPROXY_00_VHOST` is no port's label: it
 * routed another vhost than HAPROXY_0_VHOST's, or made a TCP port HTTP (an audit).
 */
describe('a port index written with leading zeros names no port', () => {
  test('HAPROXY_00_VHOST beside HAPROXY_0_VHOST: the port keeps its own vhost', async () => {
    const { config } = await dry([
      app('/web', 10001, { HAPROXY_0_VHOST: 'a.example.com', HAPROXY_00_VHOST: 'evil.example.com' }),
    ]);
    expect(config).toContain('a.example.com');
    expect(config).not.toContain('evil.example.com');
  });
  test('HAPROXY_00_VHOST alone: the port stays TCP; HAPROXY_00_ENABLED=false leaves it served', async () => {
    const { config } = await dry([
      app('/web', 10001, { HAPROXY_00_VHOST: 'evil.example.com', HAPROXY_00_ENABLED: 'false' }),
    ]);
    expect(config).not.toContain('evil.example.com');
    expect(config).toMatch(/\nfrontend web_10001\n {2}bind \*:10001\n {2}mode tcp\n/);
  });
});
