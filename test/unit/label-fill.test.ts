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
 * A label rendered for each server repeats its text as often (two audits: 1 MB in a server template,
 * or in a health check's options, made 280 MB of config from 280 tasks): one service's config is at
 * most 16 MiB, or 2 KiB a server.
 */
describe("one service's config is bounded", () => {
  const withTasks = (id: string, port: number, n: number, labels: Record<string, string>, extra = {}) => ({
    ...app(id, port, labels),
    ...extra,
    tasks: Array.from({ length: n }, (_, i) => ({
      id: `${id.slice(1)}.${i}`,
      host: `10.0.${i >> 8}.${i & 255}`,
      ports: [31000],
      state: 'TASK_RUNNING',
    })),
  });
  const serverLine = (comment: string): string =>
    `  server {serverName} {host_ipv4}:{port}{cookieOptions}{healthCheckOptions}{otherOptions}\n  # ${comment}\n`;
  const httpCheck = {
    healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0, intervalSeconds: 2, timeoutSeconds: 1 }],
  };

  test.each([
    ['a server template of 500 KB', { HAPROXY_0_BACKEND_SERVER_OPTIONS: serverLine('x'.repeat(500_000)) }, {}],
    [
      "a health check's options of 500 KB (printed into each server line by the built-in template)",
      {
        HAPROXY_0_MODE: 'http',
        HAPROXY_0_BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS: `  check inter 2s fall 3 # ${'x'.repeat(500_000)}\n`,
      },
      httpCheck,
    ],
  ])('%s for 40 tasks: left out, the other app kept', async (_name, labels, extra) => {
    const { stderr, config } = await dry([app('/good', 10001, {}), withTasks('/big', 10002, 40, labels, extra)]);
    expect(stderr).toMatch(/app \/big port index 0\b.*its config would be more than 16777216 characters/);
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

  // A second audit: 600 vhosts with two labels restating the built-in templates were left out.
  test('600 vhosts with labels that restate the built-in ACL templates are served', async () => {
    const vhosts = Array.from({ length: 600 }, (_, i) => `tenant-${i}.customers.example-platform.com`).join(',');
    const { stderr, config } = await dry([
      withTasks('/router', 10002, 3, {
        HAPROXY_0_VHOST: vhosts,
        HAPROXY_0_HTTP_FRONTEND_ACL_ONLY: '  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n',
        HAPROXY_0_HTTPS_FRONTEND_ACL: '  use_backend {backend} if {{ ssl_fc_sni {hostname} }}\n',
      }),
    ]);
    expect(stderr).not.toMatch(/left out/);
    expect(config).toContain('\nbackend router_10002\n');
    expect(config).toContain('ssl_fc_sni tenant-599.customers.example-platform.com');
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
