/**
 * Template labels written with Python format fields beyond `{name}` (a migrating user's labels): an
 * item of the health check dict, a conversion, a format spec. marathon-lb rendered them and HAProxy
 * takes the result; they used to leave their apps out ("unsupported placeholder").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeWithHaproxy, expectServedAsHaproxyTakes } from '../support/haproxy';
import { dryRun, tempDir } from '../support/render';

const task = (id: string, port: number): Record<string, unknown> => ({
  id,
  host: '10.0.1.10',
  ports: [port],
  state: 'TASK_RUNNING',
  healthCheckResults: [{ alive: true }],
});

const APPS = [
  {
    id: '/t3',
    labels: {
      HAPROXY_GROUP: 'external',
      HAPROXY_0_BACKEND_HTTP_HEALTHCHECK_OPTIONS:
        '  option httpchk GET {healthCheck[path]} HTTP/1.1\\r\\nHost:\\ t3\n  timeout check {healthCheckTimeoutSeconds:d}s\n',
    },
    healthChecks: [{ protocol: 'HTTP', path: '/hc', portIndex: 0, timeoutSeconds: 5 }],
    portDefinitions: [{ port: 10802 }],
    tasks: [task('t3.1', 31000)],
  },
  {
    id: '/t5',
    labels: {
      HAPROXY_GROUP: 'external',
      HAPROXY_0_BACKEND_SERVER_OPTIONS:
        '  server {serverName} {host_ipv4}:{port!s}{cookieOptions}{healthCheckOptions}{otherOptions} weight 50\n',
    },
    portDefinitions: [{ port: 10804 }],
    tasks: [task('t5.1', 31001)],
  },
  {
    id: '/t6',
    labels: {
      HAPROXY_GROUP: 'external',
      HAPROXY_0_FRONTEND_HEAD:
        '\nfrontend {backend}\n  bind {bindAddr}:{servicePort:d}{sslCert}{bindOptions}\n  mode {mode}\n',
    },
    portDefinitions: [{ port: 10805 }],
    tasks: [task('t6.1', 31002)],
  },
];

describeWithHaproxy('Python format fields in template labels are rendered as marathon-lb renders them', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('items, conversions and specs are filled in, and HAProxy takes the lines', async () => {
    const apps = path.join(dir, 'apps.json');
    fs.writeFileSync(apps, JSON.stringify({ apps: APPS }));
    const run = await dryRun(['--apps-file', apps, '--group', 'external']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const check = '  option httpchk GET /hc HTTP/1.1\\r\\nHost:\\ t3\n  timeout check 5s\n';
    expect(run.stdout).toContain(`\nbackend t3_10802\n  balance roundrobin\n  mode http\n  option forwardfor\n`);
    expect(run.stdout).toContain(check);
    expect(run.stdout).toMatch(/\n {2}server 10_0_1_10_31001 10\.0\.1\.10:31001 weight 50\n/);
    expect(run.stdout).toContain('\nfrontend t6_10805\n  bind *:10805\n');
    await expectServedAsHaproxyTakes(dir, true, { backend: check });
  });

  test('a value its spec does not fit leaves that app out, named, and the others are served', async () => {
    const apps = path.join(dir, 'bad.json');
    const bad = { ...APPS[2]!, labels: { ...APPS[2]!.labels, HAPROXY_0_FRONTEND_HEAD: '\nfrontend {backend:d}\n' } };
    fs.writeFileSync(apps, JSON.stringify({ apps: [APPS[0], bad] }));
    const run = await dryRun(['--apps-file', apps, '--group', 'external']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      "left out app /t6 port index 0 label HAPROXY_0_FRONTEND_HEAD: label HAPROXY_0_FRONTEND_HEAD: cannot format {backend:d}: unknown format code 'd' for a string",
    );
    expect(run.stdout).toContain('\nbackend t3_10802\n');
    expect(run.stdout).not.toContain('t6_10805');
  });
});
