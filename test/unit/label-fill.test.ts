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
