import * as fs from 'node:fs';
import * as path from 'node:path';
import { dryRun, tempDir } from '../support/render';

/**
 * BACKEND_HEALTHCHECK_PORT_INDEX counts every port of the app, as marathon-lb does, a port whose
 * labels are refused too (a differential fuzz against marathon-lb: port 0's certificate missing on
 * this load balancer, port 1's checks went to port 1's own task port instead of port 0's).
 */
describe('BACKEND_HEALTHCHECK_PORT_INDEX beside a port whose labels are refused', () => {
  const check = {
    protocol: 'TCP',
    gracePeriodSeconds: 300,
    intervalSeconds: 5,
    timeoutSeconds: 20,
    maxConsecutiveFailures: 3,
  };
  const app = (labels: Record<string, string>, portIndex: number): Record<string, unknown> => ({
    id: '/app',
    labels: { HAPROXY_GROUP: 'external', ...labels },
    portDefinitions: [{ port: 10001 }, { port: 10002 }],
    healthChecks: [{ ...check, portIndex }],
    tasks: [{ id: 'app.1', host: '10.0.0.1', state: 'TASK_RUNNING', ports: [31000, 31001] }],
  });
  async function servers(a: Record<string, unknown>): Promise<{ lines: string[]; stderr: string }> {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'apps.json');
      fs.writeFileSync(file, JSON.stringify({ apps: [a] }));
      const run = await dryRun(['--apps-file', file, '--group', 'external', '--haproxy-version', '2.0']);
      expect(run.code).toBe(0);
      return { lines: run.stdout.split('\n').filter((l) => l.startsWith('  server ')), stderr: run.stderr };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test.each([
    ['in another group', { HAPROXY_0_GROUP: 'internal' }],
    ['disabled', { HAPROXY_0_ENABLED: 'false' }],
  ])('port 0 %s with a certificate missing here: port 1 checks port 0, as marathon-lb prints it', async (_n, own) => {
    const r = await servers(
      app({ ...own, HAPROXY_0_SSL_CERT: '/nonexistent.pem', HAPROXY_1_BACKEND_HEALTHCHECK_PORT_INDEX: '0' }, 0),
    );
    expect(r.lines).toEqual(['  server 10_0_0_1_31001 10.0.0.1:31001 id 26814 check inter 5s fall 4 port 31000']);
  });

  test('port 1 checking itself by index beside a refused port 0 is served', async () => {
    const r = await servers(
      app(
        {
          HAPROXY_0_ENABLED: 'false',
          HAPROXY_0_SSL_CERT: '/nonexistent.pem',
          HAPROXY_1_BACKEND_HEALTHCHECK_PORT_INDEX: '1',
        },
        1,
      ),
    );
    expect(r.stderr).not.toMatch(/left out/);
    expect(r.lines).toEqual(['  server 10_0_0_1_31001 10.0.0.1:31001 id 26814 check inter 5s fall 4 port 31001']);
  });
});
