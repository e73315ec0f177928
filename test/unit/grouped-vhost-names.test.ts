import { makeTestCerts, type TestCerts } from '../support/certs';
import { describeWithHaproxy, dryCheckedByHaproxy } from '../support/haproxy';

/**
 * --group-https-by-vhost names a backend, a frontend and a socket after each vhost, cleaned. Vhosts
 * that clean alike, or to an app's backend or a global section, gave HAProxy two sections of one
 * name and it refused the whole config: now the later port is left out, naming its VHOST label.
 */
describeWithHaproxy('--group-https-by-vhost: one section name per vhost', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeTestCerts();
  });
  const app = (id: string, port: number, vhost: string): Record<string, unknown> => ({
    id,
    instances: 1,
    labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: vhost },
    portDefinitions: [{ port }],
    tasks: [{ id: `${id.slice(1)}.1`, host: '10.0.0.9', ports: [31000 + port - 10000], state: 'TASK_RUNNING' }],
  });
  const dry = (apps: readonly Record<string, unknown>[]): ReturnType<typeof dryCheckedByHaproxy> =>
    dryCheckedByHaproxy(apps, certs.serverCert + certs.serverKey, ['--group-https-by-vhost']);
  const sections = (config: string, name: string): number =>
    config.split('\n').filter((l) => l === `backend ${name}` || l === `frontend ${name}`).length;

  test.each([
    [
      'two vhosts that clean alike',
      'good:example:com',
      /sections good_example_com, the name of the sections of vhost "good\.example\.com" of app \/a;/,
    ],
    ["a vhost named like another app's backend", 'a_10001', /sections a_10001, the name of the backend of app \/a;/],
    [
      'a vhost named like a global frontend',
      'marathon_https_in',
      /the name of a section of the HAPROXY_HTTPS_GROUPED_FRONTEND_HEAD template/,
    ],
  ])('%s: the later port is left out, the rest served', async (_, vhost, why) => {
    const r = await dry([app('/a', 10001, 'good.example.com'), app('/b', 10002, vhost)]);
    expect(r.stderr).toMatch(/left out app \/b port index 0 label HAPROXY_0_VHOST: vhost /);
    expect(r.stderr).toMatch(why);
    expect(sections(r.config, 'good_example_com')).toBe(2);
    expect(r.config).toContain('\nbackend a_10001\n');
    expect(r.config).not.toContain('\nbackend b_10002\n');
  });

  test('an app whose backend a vhost names keeps it, whichever comes first', async () => {
    const r = await dry([app('/a', 10001, 'z_10003'), app('/z', 10003, 'z.example.com')]);
    expect(r.stderr).toMatch(/left out app \/a port index 0 label HAPROXY_0_VHOST: .*the backend of app \/z;/);
    expect(sections(r.config, 'z_10003')).toBe(2);
    expect(r.config).toContain('\nbackend z_example_com\n');
  });

  test('two vhosts of one label that clean alike: that port is left out', async () => {
    const r = await dry([app('/a', 10001, 'a.example.com'), app('/b', 10002, 'b.example.com,b:example:com')]);
    expect(r.stderr).toMatch(
      /left out app \/b port index 0 label HAPROXY_0_VHOST: vhost "b:example:com" .*"b\.example\.com" of app \/b;/,
    );
    expect(r.config).toContain('\nbackend a_10001\n');
  });

  test('a lookalike of a plain DNS vhost never takes its sections, whichever app sorts first', async () => {
    for (const lookalike of ['good_example_com', 'good:example:com']) {
      const r = await dry([app('/aaa', 10001, lookalike), app('/good', 10002, 'good.example.com')]);
      expect(r.stderr).toMatch(
        /left out app \/aaa port index 0 label HAPROXY_0_VHOST: .*"good\.example\.com" of app \/good;/,
      );
      expect(r.config).toContain('\nbackend good_10002\n');
      expect(sections(r.config, 'good_example_com')).toBe(2);
    }
  });

  test('a FRONTEND_HEAD label may not name its frontend like a vhost section, in either order', async () => {
    const named = (name: string): Record<string, string> => ({
      HAPROXY_0_FRONTEND_HEAD: `\nfrontend ${name}\n  bind {bindAddr}:{servicePort}\n  mode {mode}\n`,
    });
    const labelled = (id: string, port: number, name: string): Record<string, unknown> => ({
      ...app(id, port, `${id.slice(1)}.example.com`),
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_MODE: 'http', ...named(name) },
    });
    for (const apps of [
      [labelled('/aaa', 10001, 'foo_com'), app('/foo', 10002, 'foo.com')],
      [app('/foo', 10002, 'foo.com'), labelled('/zzz', 10003, 'foo_com')],
    ]) {
      const r = await dry(apps);
      expect(r.stderr).toMatch(
        /label HAPROXY_0_FRONTEND_HEAD: its frontend is named "foo_com", which another frontend of this config has/,
      );
      expect(sections(r.config, 'foo_com')).toBe(2);
    }
    // A vhost that is no plain DNS name yields to a label that named the frontend first.
    const r = await dry([labelled('/aaa', 10001, 'foo_com'), app('/foo', 10002, 'foo:com')]);
    expect(r.stderr).toMatch(
      /left out app \/foo port index 0 label HAPROXY_0_VHOST: .*a frontend a FRONTEND_HEAD label names/,
    );
  });

  test('one vhost on several ports shares its sections, as marathon-lb groups it', async () => {
    const r = await dry([app('/a', 10001, 'shared.example.com'), app('/b', 10002, 'shared.example.com')]);
    expect(r.stderr).not.toMatch(/left out/);
    expect(sections(r.config, 'shared_example_com')).toBe(2);
    expect(r.config).toContain('\nbackend b_10002\n');
  });
});
