import { appWithTasks } from '../support/fixtures';
import { makeTestCerts, type TestCerts } from '../support/certs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithHaproxy, dryCheckedByHaproxy } from '../support/haproxy';
import { tempDir } from '../support/render';

/**
 * Template labels that pass alone but not together, or not once an app scales, made HAProxy refuse
 * the whole config (found by an audit): two apps' sections with one proxy `id`, a constant server
 * `id` in BACKEND_SERVER_OPTIONS with two tasks, an http frontend over a tcp backend. Now that port
 * is left out, naming its label, and every other app is served (each config is checked by haproxy -c).
 */
describeWithHaproxy('template labels HAProxy refuses together: left out, the rest served', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeTestCerts();
  });
  const app = appWithTasks;
  const dry = (apps: readonly Record<string, unknown>[]): ReturnType<typeof dryCheckedByHaproxy> =>
    dryCheckedByHaproxy(apps, certs.serverCert + certs.serverKey);
  const backendWithId = { HAPROXY_0_BACKEND_HEAD: 'backend {backend}\n  balance roundrobin\n  mode tcp\n  id 100\n' };
  const frontendWithId = {
    HAPROXY_0_FRONTEND_HEAD:
      '\nfrontend {backend}\n  bind {bindAddr}:{servicePort}{sslCert}{bindOptions}\n  mode tcp\n  id 100\n',
  };

  test('two apps give their backends one proxy id: the later is left out, naming its label', async () => {
    const r = await dry([app('/a', 10001, backendWithId), app('/b', 10002, backendWithId)]);
    expect(r.stderr).toMatch(
      /left out app \/b port index 0 label HAPROXY_0_BACKEND_HEAD: it sets the proxy id 100, which app \/a has/,
    );
    expect(r.config).toContain('\nbackend a_10001\n');
    expect(r.config).not.toContain('\nbackend b_10002\n');
  });

  test("one app's frontend and another's backend with one id; one app's frontend and backend with one id", async () => {
    const across = await dry([app('/a', 10001, frontendWithId), app('/b', 10002, backendWithId)]);
    expect(across.stderr).toMatch(
      /left out app \/b port index 0 label HAPROXY_0_BACKEND_HEAD: it sets the proxy id 100/,
    );
    const within = await dry([app('/a', 10001, { ...frontendWithId, ...backendWithId }), app('/c', 10003, {})]);
    expect(within.stderr).toMatch(
      /left out app \/a port index 0 label HAPROXY_0_\w+_HEAD: it sets the proxy id 100 in two sections/,
    );
    expect(within.config).toContain('\nbackend c_10003\n');
  });

  test('two apps add one id to the shared :80 frontend through HTTP_FRONTEND_ACL: the later is left out', async () => {
    const acl = (vhost: string): Record<string, string> => ({
      HAPROXY_0_VHOST: vhost,
      HAPROXY_0_MODE: 'http',
      HAPROXY_0_HTTP_FRONTEND_ACL:
        '  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n  use_backend {backend} if host_{cleanedUpHostname}\n  id 200\n',
    });
    const r = await dry([app('/a', 10001, acl('a.example.com')), app('/b', 10002, acl('b.example.com'))]);
    expect(r.stderr).toMatch(
      /left out app \/b port index 0 label HAPROXY_0_HTTP_FRONTEND_ACL: it sets the proxy id 200/,
    );
    expect(r.config).toContain('\nbackend a_10001\n');
  });

  test('a constant server id in BACKEND_SERVER_OPTIONS: served with one task, left out with two', async () => {
    const options = {
      HAPROXY_0_BACKEND_SERVER_OPTIONS: '  server {serverName} {host_ipv4}:{port}{otherOptions} id 7\n',
    };
    const one = await dry([app('/a', 10001, options, 1)]);
    expect(one.config).toContain('\nbackend a_10001\n');
    const two = await dry([app('/a', 10001, options, 2), app('/c', 10003, {})]);
    expect(two.stderr).toMatch(
      /left out app \/a port index 0 label HAPROXY_0_BACKEND_SERVER_OPTIONS: it gives two servers of its backend the id 7/,
    );
    expect(two.config).toContain('\nbackend c_10003\n');
  });

  test('an http frontend over a tcp backend is left out; a tcp frontend over an http backend is served', async () => {
    const httpFront = {
      HAPROXY_0_FRONTEND_HEAD:
        '\nfrontend {backend}\n  bind {bindAddr}:{servicePort}{sslCert}{bindOptions}\n  mode http\n',
    };
    const httpBack = { HAPROXY_0_BACKEND_HEAD: '\nbackend {backend}\n  balance {balance}\n  mode http\n' };
    const r = await dry([app('/a', 10001, httpFront), app('/b', 10002, httpBack)]);
    expect(r.stderr).toMatch(
      /left out app \/a port index 0 label HAPROXY_0_FRONTEND_HEAD: its backend is in mode tcp, used by its own frontend in mode http/,
    );
    expect(r.config).toContain('\nbackend b_10002\n');
  });

  test('the second audit: ids written differently, two ids in one shared frontend, the app-id frontend', async () => {
    const spelled = await dry([
      app('/a', 10001, backendWithId),
      app('/b', 10002, { HAPROXY_0_BACKEND_HEAD: backendWithId.HAPROXY_0_BACKEND_HEAD.replace('id 100', 'id 0100') }),
    ]);
    expect(spelled.stderr).toMatch(
      /left out app \/b port index 0 label HAPROXY_0_BACKEND_HEAD: it sets the proxy id 100, which app \/a has/,
    );
    const acl = (vhost: string, id: number): Record<string, string> => ({
      HAPROXY_0_VHOST: vhost,
      HAPROXY_0_MODE: 'http',
      HAPROXY_0_HTTP_FRONTEND_ACL: `  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n  use_backend {backend} if host_{cleanedUpHostname}\n  id ${id}\n`,
    });
    const shared = await dry([
      app('/a', 10001, acl('a.example.com', 100)),
      app('/b', 10002, acl('b.example.com', 101)),
    ]);
    expect(shared.stderr).toMatch(
      /left out app \/b .*HAPROXY_0_HTTP_FRONTEND_ACL: it gives the shared :80 frontend an id, which app \/a gave it already/,
    );
    const appid = await dry([
      app('/a', 10001, {
        HAPROXY_0_MODE: 'http',
        HAPROXY_0_HTTP_FRONTEND_APPID_ACL:
          '  acl app_{cleanedUpAppId} hdr(x-marathon-app-id) -i {appId}\n  use_backend {backend} if app_{cleanedUpAppId}\n  id 100\n',
      }),
      app('/b', 10002, backendWithId),
    ]);
    expect(appid.stderr).toMatch(
      /left out app \/b port index 0 label HAPROXY_0_BACKEND_HEAD: it sets the proxy id 100, which app \/a has/,
    );
  });

  test('the second audit: a server id from the health-check options label; `check-sni id` is no id', async () => {
    const check = {
      protocol: 'HTTP',
      path: '/h',
      portIndex: 0,
      gracePeriodSeconds: 0,
      intervalSeconds: 2,
      timeoutSeconds: 1,
      maxConsecutiveFailures: 2,
    };
    const checked = {
      ...app(
        '/a',
        10001,
        { HAPROXY_0_MODE: 'http', HAPROXY_0_BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS: '  check inter 2s id 7' },
        2,
      ),
      healthChecks: [check],
    };
    const r = await dry([checked, app('/c', 10003, {})]);
    expect(r.stderr).toMatch(
      /left out app \/a port index 0 label HAPROXY_0_BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS: it gives two servers of its backend the id 7/,
    );
    const sni = app(
      '/s',
      10004,
      {
        HAPROXY_0_BACKEND_SERVER_OPTIONS:
          '  server {serverName} {host_ipv4}:{port} id {serverId} check-sni id weight 10\n',
      },
      2,
    );
    const served = await dry([sni]);
    expect(served.stderr).not.toMatch(/left out/);
    expect(served.config).toContain('\nbackend s_10004\n');
  });

  test('the second audit: an http app whose heads both say tcp; a mode behind a comment line', async () => {
    const tcpHeads = {
      HAPROXY_0_MODE: 'http',
      HAPROXY_0_FRONTEND_HEAD: '\nfrontend {backend}\n  bind {bindAddr}:{servicePort}\n  mode tcp\n',
      HAPROXY_0_BACKEND_HEAD: '\nbackend {backend}\n  balance {balance}\n  mode tcp\n',
    };
    const r = await dry([app('/a', 10001, tcpHeads), app('/c', 10003, {})]);
    expect(r.stderr).toMatch(/left out app \/a .*its backend is in mode tcp, used by the shared http frontends/);
    const commented = await dry([
      app('/b', 10002, {
        HAPROXY_0_MODE: 'http',
        HAPROXY_0_BACKEND_HEAD: 'backend {backend}\n  balance {balance}\n# c\nmode tcp\n',
      }),
      app('/c', 10003, {}),
    ]);
    expect(commented.stderr).toMatch(/left out app \/b .*its backend is in mode tcp/);
  });

  test('the third audit: what HAProxy accepts is served (maps, a commented id, an unprinted template id)', async () => {
    const tcpHeads = {
      HAPROXY_0_MODE: 'http',
      HAPROXY_0_FRONTEND_HEAD: '\nfrontend {backend}\n  bind {bindAddr}:{servicePort}\n  mode tcp\n',
      HAPROXY_0_BACKEND_HEAD: '\nbackend {backend}\n  balance {balance}\n  mode tcp\n',
    };
    // With --haproxy-map the shared frontends reach backends through a map, never by name.
    const mapped = await dryCheckedByHaproxy([app('/a', 10001, tcpHeads)], certs.serverCert + certs.serverKey, [
      '--haproxy-map',
    ]);
    expect(mapped.config).toContain('\nbackend a_10001\n');
    const commented = await dry([
      app(
        '/b',
        10002,
        { HAPROXY_0_BACKEND_SERVER_OPTIONS: '  server {serverName} {host_ipv4}:{port} id {serverId} # id 1\n' },
        2,
      ),
    ]);
    expect(commented.config).toContain('\nbackend b_10002\n');
    const templates = join(tempDir(), 'templates');
    mkdirSync(templates);
    writeFileSync(
      join(templates, 'HAPROXY_HTTP_FRONTEND_HEAD'),
      '\nfrontend marathon_http_in\n  bind *:80\n  mode http\n  id 100\n',
    );
    const unprinted = await dryCheckedByHaproxy([app('/c', 10003, backendWithId)], certs.serverCert + certs.serverKey, [
      '--templates-dir',
      templates,
      '--dont-bind-http-https',
    ]);
    expect(unprinted.config).toContain('\nbackend c_10003\n');
  });
});
