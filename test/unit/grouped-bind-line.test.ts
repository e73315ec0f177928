import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestCerts, type TestCerts } from '../support/certs';
import { describeWithHaproxy, dryCheckedByHaproxy } from '../support/haproxy';
import { tempDir } from '../support/render';

/**
 * --group-https-by-vhost gathers the certificates and bind options of every app on a vhost onto one
 * bind line. Enough apps with their own SSL_CERT made it pass HAProxy's 64 words, and HAProxy refused
 * the whole config: now the app that would pass it is left out, naming its label, and the rest served.
 */
describeWithHaproxy('--group-https-by-vhost: the bind line apps share stays within 64 words', () => {
  let certs: TestCerts;
  let dir: string;
  beforeAll(() => {
    certs = makeTestCerts();
    dir = tempDir();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A cert file of its own for each app: the bind line lists each distinct file once. */
  const certFile = (n: number): string => {
    const file = join(dir, `cert${String(n).padStart(2, '0')}.pem`);
    writeFileSync(file, certs.serverCert + certs.serverKey);
    return file;
  };
  const app = (n: number, labels: Record<string, string>): Record<string, unknown> => ({
    id: `/app${String(n).padStart(2, '0')}`,
    instances: 1,
    labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'shared.example.com', ...labels },
    portDefinitions: [{ port: 10000 + n }],
    tasks: [{ id: `t${n}`, host: '10.0.0.9', ports: [31000 + n], state: 'TASK_RUNNING' }],
  });
  const bindLine = (config: string): string[] =>
    config
      .split('\n')
      .find((l) => l.includes('bind abns@shared_example_com'))!
      .trim()
      .split(/\s+/);

  test('40 apps with their own SSL_CERT on one vhost: the first 30 fit, the rest are left out', async () => {
    const apps = Array.from({ length: 40 }, (_, i) => app(i + 1, { HAPROXY_0_SSL_CERT: certFile(i + 1) }));
    const r = await dryCheckedByHaproxy(apps, certs.serverCert + certs.serverKey, ['--group-https-by-vhost']);
    // `bind abns@… accept-proxy ssl` and two words a certificate: 30 of them make 64.
    expect(bindLine(r.config)).toHaveLength(64);
    expect(r.config).toContain('\nbackend app30_10030\n');
    expect(r.config).not.toContain('\nbackend app31_10031\n');
    expect(r.stderr).toMatch(
      /left out app \/app31 port index 0 label HAPROXY_0_SSL_CERT: its certificate would make the bind line of vhost "shared\.example\.com", shared with other apps under --group-https-by-vhost, 66 words long/,
    );
    expect(r.stderr.match(/left out/g)).toHaveLength(10);
  });

  test('bind options of many apps: the app whose options pass 64 words is left out, naming BIND_OPTIONS', async () => {
    // 22 words an app, each app's its own: with `bind abns@… accept-proxy ssl crt FILE`, two fit.
    const options = (n: number): string => Array.from({ length: 11 }, (_, i) => `maxconn ${n}0${i}`).join(' ');
    const apps = [1, 2, 3, 4].map((n) => app(n, { HAPROXY_0_BIND_OPTIONS: options(n) }));
    const r = await dryCheckedByHaproxy(apps, certs.serverCert + certs.serverKey, ['--group-https-by-vhost']);
    expect(bindLine(r.config).length).toBeLessThanOrEqual(64);
    expect(r.stderr).toMatch(/left out app \/app03 port index 0 label HAPROXY_0_BIND_OPTIONS: its bind options would/);
    expect(r.stderr).toMatch(/left out app \/app04 port index 0 label HAPROXY_0_BIND_OPTIONS: its bind options would/);
    expect(r.config).toContain('\nbackend app02_10002\n');
  });
});
