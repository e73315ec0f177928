/**
 * Issue 10: apps whose templates print directives HAProxy 2.1 removed are served by a real
 * HAProxy 2.6 through the translation (no --haproxy-version: it is read from `haproxy -v`).
 * Requests go through HAProxy's :80 frontend to the simulator's task servers, which echo the path
 * and headers they received and can send a redirect (`/_redirect?to=`).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { findConfigDir } from '../../src/configDir';
import { freeLoopbackPort, startLive, type LiveSystem } from '../../src/demo/live';
import { prepareDemoFiles, type DemoPorts } from '../../src/demo/setup';
import { describeWithHaproxy } from '../support/haproxy';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { waitFor } from '../support/wait';

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}
/** The simulator's task servers echo the request headers they got as JSON. */
const echoed = (body: string): { headers: Record<string, string> } =>
  JSON.parse(body) as { headers: Record<string, string> };

/** One GET through HAProxy's :80 frontend (fresh connection, bounded). */
function get(port: number, host: string, pathName: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: pathName, headers: { ...headers, host }, agent: false, timeout: 3000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const app = (id: string, port: number, labels: Record<string, string>): unknown => ({
  id,
  instances: 1,
  portDefinitions: [{ port }],
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: `${id.slice(1)}.example.com`, ...labels },
});

const HTTP_OPTIONS =
  '  option forwardfor\n  http-request set-header X-Forwarded-Port %[dst_port]\n  http-request add-header X-Forwarded-Proto https if { ssl_fc }\n';
const APPS = [
  app('/plain', 10200, {}),
  app('/hsts', 10201, { HAPROXY_0_USE_HSTS: 'true' }),
  app('/proxy', 10202, { HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH: '/api' }),
  app('/rev', 10203, { HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH: '/root' }),
  // A user's own per-app override with marathon-lb-era directives.
  app('/custom', 10204, {
    HAPROXY_0_BACKEND_HTTP_OPTIONS: `${HTTP_OPTIONS}  reqadd X-Custom:\\ yes\n  rspidel ^X-Sim-App:\n  reqidel ^X-Drop\n`,
  }),
  // One that cannot be translated mechanically: left out, named, the rest served.
  app('/exempt', 10205, { HAPROXY_0_BACKEND_HTTP_OPTIONS: `${HTTP_OPTIONS}  reqpass ^X-Internal:\n` }),
  // Filters written before the http-request rules they ran after in 2.0 (a migration audit: the
  // rewrite ran first and the deny never saw /api/admin; the reqallow skipped the deny and the reqadd).
  app('/order', 10206, {
    HAPROXY_0_BACKEND_HTTP_OPTIONS: `${HTTP_OPTIONS}  reqrep ^([^\\ :]*)\\ /api/(.*) \\1\\ /\\2\n  http-request deny if { path_beg /api/admin }\n`,
  }),
  app('/allowed', 10207, {
    HAPROXY_0_BACKEND_HTTP_OPTIONS: `${HTTP_OPTIONS}  reqallow ^X-Ok:\n  reqdeny ^X-Evil:\n  http-request deny if { req.hdr(X-Block) -m found }\n  reqadd X-Added:\\ yes\n  block if { req.hdr(X-Bad) -m found }\n  http-request allow if { req.hdr(X-Admin) -m found }\n`,
  }),
  // marathon-lb issue #471's workaround: the task's path kept after the root path (\3 of the rewrite).
  app('/revkeep', 10209, { HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH: '/root\\3' }),
  // HSTS's rspadd (its own template) runs after the override's http-response rules, as in 2.0.
  app('/hstsdel', 10210, {
    HAPROXY_0_USE_HSTS: 'true',
    HAPROXY_0_BACKEND_HTTP_OPTIONS: `${HTTP_OPTIONS}  http-response del-header Strict-Transport-Security\n`,
  }),
  // The other directives 2.1 refuses that say what another does.
  app('/renamed', 10208, {
    HAPROXY_0_BACKEND_HTTP_OPTIONS: `${HTTP_OPTIONS}  contimeout 5s\n  srvtimeout 30s\n  redispatch\n  option forceclose\n  option http-tunnel\n`,
  }),
];
const SERVED = 10;

describeWithHaproxy('legacy directives translated for a real HAProxy 2.6', () => {
  let live: LiveSystem;
  let ports: DemoPorts;
  let dir: string;
  const logs: LogLine[] = [];
  const through = (host: string, pathName = '/', headers: Record<string, string> = {}): Promise<Reply> =>
    get(ports.http, host, pathName, headers);

  beforeAll(async () => {
    ports = {
      http: await freeLoopbackPort(),
      https: await freeLoopbackPort(),
      stats: await freeLoopbackPort(),
      appid: await freeLoopbackPort(),
    };
    // The operator's own global template (a templates/ file) with a removed directive too.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-legacy-'));
    const files = prepareDemoFiles(dir, findConfigDir(), ports);
    const head = path.join(files.templatesDir, 'HAPROXY_HTTP_FRONTEND_HEAD');
    fs.appendFileSync(head, '  reqadd X-Front:\\ on\n');
    live = await startLive({
      apps: APPS,
      ports,
      logger: memoryLogger(logs),
      flags: ['--templates-dir', files.templatesDir],
    });
    await waitFor('the apps to be served', () => live.service.status.status().services.length === SERVED, 20000);
    await waitFor('routing through HAProxy', () => live.service.status.status().recentApplies.length > 0, 20000);
  }, 60000);
  afterAll(async () => {
    await live?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The first answer from the app's task (HAProxy's health checks may take a moment). */
  const answer = async (host: string, pathName = '/', headers: Record<string, string> = {}): Promise<Reply> => {
    let last: Reply | Error = new Error('no request made');
    for (let i = 0; i < 200; i++) {
      last = await through(host, pathName, headers).catch((e: Error) => e);
      if (!(last instanceof Error) && last.status !== 503) return last;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw last instanceof Error ? last : new Error(`HTTP ${last.status} from ${host}${pathName}`);
  };

  test('HSTS: the Strict-Transport-Security header is sent (rspadd → http-response add-header)', async () => {
    expect((await answer('hsts.example.com')).headers['strict-transport-security']).toBe('max-age=15768000');
    expect((await answer('plain.example.com')).headers['strict-transport-security']).toBeUndefined();
    // Across templates: the override's del-header ran before 2.0's rspadd, so the header is sent.
    expect((await answer('hstsdel.example.com')).headers['strict-transport-security']).toBe('max-age=15768000');
  });

  test('proxy path: /api is stripped before the task sees the request (reqirep → http-request replace-pathq)', async () => {
    const r = await answer('proxy.example.com', '/api/hello/world?x=1');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ path: '/hello/world', headers: { host: 'proxy.example.com' } });
    expect(JSON.parse((await answer('proxy.example.com', '/API/x')).body)).toMatchObject({ path: '/x' }); // reqirep: case-insensitive
    expect(JSON.parse((await answer('proxy.example.com', '/other')).body)).toMatchObject({ path: '/other' });
  });

  test("reverse proxy: the task's redirect Location is rewritten (rspirep → http-response replace-header)", async () => {
    const own = await answer(
      'rev.example.com',
      `/_redirect?to=${encodeURIComponent('http://rev.example.com:8080/some/where')}`,
    );
    expect(own.status).toBe(302);
    expect(own.headers.location).toBe('/root'); // marathon-lb's template replaces the whole Location with the root path
    const relative = await answer('rev.example.com', `/_redirect?to=${encodeURIComponent('/inner')}`);
    expect(relative.headers.location).toBe('/root');
    const elsewhere = await answer(
      'rev.example.com',
      `/_redirect?to=${encodeURIComponent('https://other.example.org/x')}`,
    );
    expect(elsewhere.headers.location).toBe('https://other.example.org/x');
    const kept = await answer(
      'revkeep.example.com',
      `/_redirect?to=${encodeURIComponent('http://revkeep.example.com:8080/some/where')}`,
    );
    expect(kept.headers.location).toBe('/root/some/where');
  });

  test("a user's own overrides: reqadd in an app label and in a templates/ file, rspidel, reqidel of a name's prefix", async () => {
    const custom = await answer('custom.example.com', '/', { 'X-Drop-Me': '1', 'x-dropped': '2', 'X-Keep': '3' });
    expect(JSON.parse(custom.body)).toMatchObject({ headers: { 'x-custom': 'yes', 'x-front': 'on', 'x-keep': '3' } });
    expect(Object.keys(echoed(custom.body).headers).filter((h) => h.startsWith('x-drop'))).toEqual([]);
    expect(custom.headers['x-sim-app']).toBeUndefined();
    expect(custom.headers['x-sim-task']).toBeDefined();
    const plain = await answer('plain.example.com');
    expect(echoed(plain.body).headers).toMatchObject({ 'x-front': 'on' });
    expect(echoed(plain.body).headers['x-custom']).toBeUndefined();
    expect(plain.headers['x-sim-app']).toBe('/plain');
  });

  test('an untranslatable directive leaves that app out with the modern replacement in the message', () => {
    const problem = live.service.status.status().leftOut.find((p) => p.appId === '/exempt');
    expect(problem).toBeDefined();
    expect(problem!.label).toBe('HAPROXY_0_BACKEND_HTTP_OPTIONS');
    expect(problem!.message).toMatch(/"reqpass" was removed in HAProxy 2\.1 .*write .*unless/);
    expect(
      live.service.status
        .status()
        .services.map((s) => s.backend)
        .sort(),
    ).toEqual([
      'allowed_10207',
      'custom_10204',
      'hsts_10201',
      'hstsdel_10210',
      'order_10206',
      'plain_10200',
      'proxy_10202',
      'renamed_10208',
      'rev_10203',
      'revkeep_10209',
    ]);
  });

  test('filters run after the http-request rules, as in 2.0: a deny written after a path rewrite sees the path as sent', async () => {
    expect((await answer('order.example.com', '/api/admin')).status).toBe(403);
    const r = await answer('order.example.com', '/api/x');
    expect([r.status, JSON.parse(r.body)]).toEqual([200, expect.objectContaining({ path: '/x' })]);
  });

  test('reqallow lets a request past the later reqdeny only: http-request rules and reqadd still apply; block runs first', async () => {
    const status = async (headers: Record<string, string>): Promise<number> =>
      (await answer('allowed.example.com', '/', headers)).status;
    expect(await status({ 'X-Ok': '1', 'X-Block': '1' })).toBe(403);
    expect(await status({ 'X-Evil': '1' })).toBe(403);
    expect(await status({ 'X-Ok': '1', 'X-Evil': '1' })).toBe(200);
    expect(await status({ 'X-Admin': '1', 'X-Bad': '1' })).toBe(403);
    const ok = await answer('allowed.example.com', '/', { 'X-Ok': '1' });
    expect(echoed(ok.body).headers).toMatchObject({ 'x-added': 'yes' });
  });

  test('contimeout, srvtimeout, redispatch, option forceclose and option http-tunnel: written as 2.1+ says, served', async () => {
    expect((await answer('renamed.example.com')).status).toBe(200);
  });

  afterEach(() => {
    if (process.env.MLB_TEST_LOGS) for (const l of logs.splice(0)) console.log(`${l.level} ${l.msg}`);
  });
});
