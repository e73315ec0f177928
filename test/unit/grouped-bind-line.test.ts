import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestCerts, type TestCerts } from '../support/certs';
import { describeWithHaproxy, dryCheckedByHaproxy } from '../support/haproxy';
import { dryRun, tempDir } from '../support/render';

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
      /left out app \/app31 port index 0 label HAPROXY_0_SSL_CERT: its certificate would make the bind line of vhost "shared\.example\.com" under --group-https-by-vhost \(the one it shares with other apps\) 66 words long/,
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

  test('one app alone whose bind options fill its bind line: left out naming BIND_OPTIONS, not its certificate', async () => {
    // 59 words, as many as the label may have: with `bind abns@… accept-proxy ssl crt FILE`, 65.
    const options = `${'maxconn 1 '.repeat(29)}tfo`;
    const r = await dryCheckedByHaproxy(
      [app(1, { HAPROXY_0_SSL_CERT: certFile(1), HAPROXY_0_BIND_OPTIONS: options })],
      certs.serverCert + certs.serverKey,
      ['--group-https-by-vhost'],
    );
    expect(r.stderr).toMatch(
      /left out app \/app01 port index 0 label HAPROXY_0_BIND_OPTIONS: its bind options would make the bind line of vhost "shared\.example\.com" under --group-https-by-vhost \(its own\) 65 words long/,
    );
  });

  test('a VHOST of 59 names separated by blanks: its use_backend line would pass 64 words, so that port is left out', async () => {
    const names = Array.from({ length: 59 }, (_, i) => `h${i}.example.com`).join(' ');
    // Grouped, the vhost is also too long to name its socket after: left out for that first.
    for (const [flags, why] of [
      [[], /its vhost routing makes a line of \d+ words/],
      [
        ['--group-https-by-vhost'],
        /is longer than the \d+ characters --group-https-by-vhost can name its socket after/,
      ],
    ] as const) {
      const r = await dryCheckedByHaproxy(
        [app(1, { HAPROXY_0_VHOST: names }), app(2, { HAPROXY_0_VHOST: 'good.example.com' })],
        certs.serverCert + certs.serverKey,
        flags,
      );
      expect(r.stderr).toMatch(new RegExp(`left out app /app01 port index 0 label HAPROXY_0_VHOST: .*${why.source}`));
      expect(r.config).toContain('\nbackend app02_10002\n');
    }
  });

  test('--ssl-certs that would pass 64 words on the :443 bind line, or hold a #: exit 2 naming --ssl-certs', async () => {
    const file = join(dir, 'apps-none.json');
    writeFileSync(file, JSON.stringify({ apps: [app(1, {})] }));
    const many = Array.from({ length: 31 }, (_, i) => certFile(i + 1)).join(',');
    for (const [flags, why] of [
      [['--ssl-certs', many], /--ssl-certs: 31 certificates make the :443 bind line 65 words long/],
      [
        ['--ssl-certs', many, '--group-https-by-vhost'],
        /--ssl-certs: 31 certificates make the :443 bind line 66 words/,
      ],
      [['--ssl-certs', '/etc/ssl/a#b.pem'], /--ssl-certs: "\/etc\/ssl\/a#b\.pem" has a blank, # or quote/],
      [['--ssl-certs', "/etc/ssl/a'b.pem"], /--ssl-certs: "\/etc\/ssl\/a'b\.pem" has a blank, # or quote/],
    ] as const) {
      const r = await dryRun(['--apps-file', file, '--group', 'external', ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stdout).toBe('');
    }
    const fits = await dryRun([
      '--apps-file',
      file,
      '--group',
      'external',
      '--ssl-certs',
      many.split(',').slice(1).join(','),
    ]);
    expect(fits.code).toBe(0);
  });

  test('31 --ssl-certs never printed (every grouped vhost has its own certificate): served', async () => {
    const many = Array.from({ length: 31 }, (_, i) => certFile(i + 1)).join(',');
    const r = await dryCheckedByHaproxy(
      [app(1, { HAPROXY_0_SSL_CERT: certFile(1) })],
      certs.serverCert + certs.serverKey,
      ['--group-https-by-vhost', '--ssl-certs', many],
    );
    expect(r.config).toContain('\nbackend app01_10001\n');
  });
});
