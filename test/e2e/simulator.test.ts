/**
 * The Marathon simulator over real HTTP on 127.0.0.1: API shapes, SSE with filters, control API,
 * faults, auth, leader redirects, real task backends and TLS. Waits are bounded; the only fixed wait
 * is the "nothing arrives" window of the hang fault.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { EventSource } from 'eventsource';
import { join } from 'node:path';
import { loadScenario, parseScenario, signRs256, Simulator, startScenario } from '../../src/simulator';
import type { SimEvent, SimulatorOptions } from '../../src/simulator';
import { MARATHON_HEARTBEAT_MS } from '../../src/simulator/sse';

const ROOT = join(__dirname, '..', '..');

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown; ca?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.request(
      url,
      {
        method: opts.method ?? (payload ? 'POST' : 'GET'),
        headers: { ...(payload ? { 'Content-Type': 'application/json' } : {}), ...opts.headers },
        agent: false,
        timeout: 5000,
        ...(opts.ca ? { ca: opts.ca } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Marathon's JSON as these tests read it: one loose shape for /v2/apps, /v2/apps/{id}, /v2/info and error bodies. */
interface TaskJson {
  id: string;
  ports: number[];
  startedAt: string;
  healthCheckResults?: { alive: boolean }[];
}
interface AppJson {
  id: string;
  instances: number;
  labels: Record<string, string>;
  portDefinitions?: unknown[];
  tasks: TaskJson[];
}
interface Body {
  apps: AppJson[];
  app: AppJson;
  version: string;
  message: string;
  labels: Record<string, string>;
  task: string;
}
const parse = (text: string): Body => JSON.parse(text) as Body;
const getJson = async (url: string, headers: Record<string, string> = {}): Promise<Body> => {
  const r = await request(url, { headers });
  expect(r.status).toBe(200);
  return parse(r.body);
};
const post = (url: string, body: unknown): Promise<Reply> => request(url, { method: 'POST', body });

/** An SSE client on a raw socket: collects bytes and parsed events. */
class Stream {
  raw = '';
  events: SimEvent[] = [];
  status = 0;
  contentType = '';
  ended = false;
  private readonly req: http.ClientRequest;
  private waiters: (() => void)[] = [];

  constructor(url: string, headers: Record<string, string> = {}) {
    this.req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      this.status = res.statusCode ?? 0;
      this.contentType = String(res.headers['content-type']);
      this.poke();
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        this.raw += c;
        this.events = this.raw
          .split('\n\n')
          .filter((f) => f.includes('data: '))
          .map((f) => JSON.parse(f.slice(f.indexOf('data: ') + 6)) as SimEvent);
        this.poke();
      });
      res.on('end', () => this.finish());
      res.on('close', () => this.finish());
    });
    this.req.on('socket', (s) => s.on('data', () => undefined));
    this.req.on('error', () => this.finish());
  }

  /** Raw bytes seen on the socket (even before a status line). */
  get socketBytes(): number {
    return this.req.socket?.bytesRead ?? 0;
  }

  waitFor(pred: (s: Stream) => boolean, what: string, ms = 3000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}; got ${this.raw.slice(0, 400)}`)),
        ms,
      );
      const check = (): void => {
        if (pred(this)) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  ofType(type: string): SimEvent[] {
    return this.events.filter((e) => e.eventType === type);
  }

  close(): void {
    this.req.destroy();
  }

  private finish(): void {
    this.ended = true;
    this.poke();
  }

  private poke(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }
}

const webApp = {
  id: '/web',
  instances: 2,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
  portDefinitions: [{ port: 10004, protocol: 'tcp', name: 'http' }],
  healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0, maxConsecutiveFailures: 3 }],
};

const sims: Simulator[] = [];
const streams: Stream[] = [];
async function start(opts: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await Simulator.start({ seed: 'abcdef012345', ...opts });
  sims.push(sim);
  return sim;
}
function stream(url: string, headers?: Record<string, string>): Stream {
  const s = new Stream(url, headers);
  streams.push(s);
  return s;
}

afterEach(async () => {
  streams.splice(0).forEach((s) => s.close());
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

describe('Marathon API shapes', () => {
  test('/v2/apps?embed=apps.tasks has Marathon 1.5+ apps with tasks and health results', async () => {
    const sim = await start({
      apps: [
        webApp,
        {
          id: 'bridged',
          instances: 1,
          labels: { HAPROXY_GROUP: 'internal', HAPROXY_0_MODE: 'tcp' },
          container: {
            type: 'DOCKER',
            docker: { image: 'x' },
            portMappings: [{ containerPort: 80, hostPort: 0, servicePort: 0 }],
          },
          networks: [{ mode: 'container/bridge' }],
        },
      ],
    });
    const body = await getJson(`${sim.url}/v2/apps?embed=apps.tasks`);
    expect(body.apps).toHaveLength(2);
    const [web, bridged] = body.apps;
    expect(web).toMatchObject({
      id: '/web',
      instances: 2,
      labels: webApp.labels,
      tasksRunning: 2,
      tasksHealthy: 2,
      portDefinitions: [{ port: 10004, protocol: 'tcp', name: 'http' }],
      healthChecks: [{ protocol: 'HTTP', path: '/health' }],
      versionInfo: { lastScalingAt: expect.any(String), lastConfigChangeAt: expect.any(String) },
    });
    expect(web.tasks).toHaveLength(2);
    const task = web.tasks[0];
    expect(task).toMatchObject({
      appId: '/web',
      host: '127.0.0.1',
      state: 'TASK_RUNNING',
      servicePorts: [10004],
      ipAddresses: [{ ipAddress: '127.0.0.1', protocol: 'IPv4' }],
      healthCheckResults: [{ alive: true }],
    });
    expect(task.id).toMatch(/^web\.[0-9a-f]{8}-0000-4000-8000-abcdef012345$/);
    expect(task.ports).toEqual([expect.any(Number)]);
    expect(new Date(task.startedAt).toString()).not.toBe('Invalid Date');
    expect(bridged).toMatchObject({
      id: '/bridged',
      networks: [{ mode: 'container/bridge' }],
      container: { portMappings: [{ containerPort: 80, servicePort: 10000 }] },
    });
    expect(bridged.portDefinitions).toBeUndefined();
    expect(bridged.tasks[0].healthCheckResults).toBeUndefined();
    expect(bridged.tasks[0].ports).toHaveLength(1);

    const plain = await getJson(`${sim.url}/v2/apps`);
    expect(plain.apps[0].tasks).toBeUndefined();
    expect((await getJson(`${sim.url}/v2/apps/web`)).app.tasks).toHaveLength(2);
    expect((await request(`${sim.url}/v2/apps/nope`)).status).toBe(404);
  });

  test("Marathon's write API: POST/PUT /v2/apps, DELETE a task with scale=true, DELETE the app", async () => {
    const sim = await start();
    const created = await post(`${sim.url}/v2/apps`, { id: '/w', instances: 2, labels: { HAPROXY_GROUP: 'external' } });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe('/v2/apps/w');
    expect(JSON.parse(created.body)).toMatchObject({ id: '/w', portDefinitions: [{ port: 10000 }] });
    const put = await request(`${sim.url}/v2/apps/w`, { method: 'PUT', body: { instances: 3 } });
    expect(JSON.parse(put.body)).toEqual({ version: expect.any(String), deploymentId: expect.any(String) });
    const victim = sim.tasksOf('/w')[1];
    expect((await request(`${sim.url}/v2/apps/w/tasks/${victim.id}?scale=true`, { method: 'DELETE' })).status).toBe(
      200,
    );
    expect(sim.tasksOf('/w').map((t) => t.id)).not.toContain(victim.id);
    expect((await getJson(`${sim.url}/v2/apps/w`)).app.instances).toBe(2);
    expect((await request(`${sim.url}/v2/apps/w`, { method: 'DELETE' })).status).toBe(200);
    expect((await getJson(`${sim.url}/v2/apps`)).apps).toEqual([]);
  });

  test('/v2/info and /v2/leader describe this instance', async () => {
    const sim = await start();
    const info = await getJson(`${sim.url}/v2/info`);
    expect(info).toMatchObject({
      name: 'marathon',
      elected: true,
      leader: `127.0.0.1:${sim.port}`,
      marathon_config: { http_port: sim.port },
    });
    expect(info.version).toMatch(/^1\.10\./);
    expect(await getJson(`${sim.url}/v2/leader`)).toEqual({ leader: `127.0.0.1:${sim.port}` });
  });
});

describe('event stream', () => {
  test('greets with event_stream_attached and honours repeated event_type filters', async () => {
    const sim = await start({ apps: [webApp] });
    const all = stream(`${sim.url}/v2/events`);
    const filtered = stream(
      `${sim.url}/v2/events?event_type=status_update_event&event_type=health_status_changed_event`,
    );
    await all.waitFor((s) => s.events.length >= 1, 'event_stream_attached');
    expect(all.status).toBe(200);
    expect(all.contentType).toMatch(/^text\/event-stream/);
    expect(all.events[0]).toMatchObject({ eventType: 'event_stream_attached', timestamp: expect.any(String) });
    expect(all.raw.startsWith('event: event_stream_attached\ndata: {')).toBe(true);
    await filtered.waitFor((s) => s.status === 200, 'headers');

    await post(`${sim.url}/_sim/apps/web/scale`, { instances: 3 });
    await filtered.waitFor((s) => s.ofType('health_status_changed_event').length >= 1, 'events after scale');
    const [update] = filtered.ofType('status_update_event');
    const newTask = sim.tasksOf('/web')[2];
    expect(update).toMatchObject({
      taskStatus: 'TASK_RUNNING',
      appId: '/web',
      taskId: newTask.id,
      host: '127.0.0.1',
      ports: newTask.ports,
      eventType: 'status_update_event',
      timestamp: expect.any(String),
    });
    expect(filtered.events.map((e) => e.eventType).sort()).toEqual([
      'health_status_changed_event',
      'status_update_event',
    ]);

    await all.waitFor((s) => s.ofType('deployment_success').length === 1, 'deployment_success');
    expect(all.events.map((e) => e.eventType)).toEqual([
      'event_stream_attached',
      'api_post_event',
      'deployment_info',
      'status_update_event',
      'health_status_changed_event',
      'deployment_step_success',
      'deployment_success',
    ]);
    expect(all.ofType('api_post_event')[0]).toMatchObject({ appDefinition: { id: '/web', instances: 3 } });
  });

  test('the eventsource package (a real SSE client) receives named events', async () => {
    const sim = await start({ apps: [webApp], auth: { basic: 'u:p' } });
    const auth = `Basic ${Buffer.from('u:p').toString('base64')}`;
    const es = new EventSource(`${sim.url}/v2/events?event_type=status_update_event`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, Authorization: auth } }),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('eventsource did not open')), 3000);
        es.onopen = () => {
          clearTimeout(t);
          resolve();
        };
      });
      const got = new Promise<SimEvent>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no status_update_event')), 3000);
        es.addEventListener('status_update_event', (m) => {
          clearTimeout(t);
          resolve(JSON.parse(m.data as string) as SimEvent);
        });
      });
      await sim.scale('/web', 3);
      expect(await got).toMatchObject({ eventType: 'status_update_event', taskStatus: 'TASK_RUNNING', appId: '/web' });
    } finally {
      es.close();
    }
  });

  test("a heartbeat (CRLF) between events, as Marathon's Jetty writes every 10 s; none when set to 0", async () => {
    expect(MARATHON_HEARTBEAT_MS).toBe(10_000);
    const sim = await start({ keepAliveMs: 20 });
    const s = stream(`${sim.url}/v2/events`);
    await s.waitFor((x) => x.raw.split('\r\n').length > 3, 'three heartbeats');
    expect(s.events.map((e) => e.eventType)).toEqual(['event_stream_attached']);
    const quiet = await start({ keepAliveMs: 0 });
    const q = stream(`${quiet.url}/v2/events`);
    await q.waitFor((x) => x.events.length === 1, 'greeting');
    await new Promise((r) => setTimeout(r, 100));
    expect(q.raw).not.toContain('\r\n');
  });

  test('a burst of 100 events is delivered in full', async () => {
    const sim = await start({ apps: [webApp] });
    const s = stream(`${sim.url}/v2/events?event_type=status_update_event`);
    await s.waitFor((x) => x.status === 200, 'headers');
    expect(await getJson(`${sim.url}/_sim/state`)).toMatchObject({ streams: 1 });
    const r = await post(`${sim.url}/_sim/events/burst`, { count: 100, type: 'status_update_event' });
    expect(JSON.parse(r.body)).toEqual({ emitted: 100 });
    await s.waitFor((x) => x.events.length === 100, '100 events');
    expect(new Set(s.events.map((e) => e['taskId']))).toEqual(new Set(sim.tasksOf('/web').map((t) => t.id)));
    expect((await post(`${sim.url}/_sim/events/burst`, { count: 1, type: 'nope' })).status).toBe(422);
  });

  test('control API changes emit the matching events', async () => {
    const sim = await start({ apps: [webApp] });
    const s = stream(`${sim.url}/v2/events`);
    await s.waitFor((x) => x.events.length === 1, 'greeting');
    const [first, second] = sim.tasksOf('/web');

    expect((await post(`${sim.url}/_sim/tasks/${first.id}/health`, { alive: false })).status).toBe(200);
    await s.waitFor((x) => x.ofType('health_status_changed_event').length === 1, 'health change');
    expect(s.ofType('health_status_changed_event')[0]).toMatchObject({ appId: '/web', taskId: first.id, alive: false });
    const app = (await getJson(`${sim.url}/v2/apps?embed=apps.tasks`)).apps[0];
    expect(app!.tasks.find((t) => t.id === first.id)!.healthCheckResults![0]).toMatchObject({
      alive: false,
      consecutiveFailures: 3,
    });

    await post(`${sim.url}/_sim/tasks/${second.id}/kill`, {});
    await s.waitFor((x) => x.ofType('status_update_event').length === 2, 'kill + replacement');
    expect(s.ofType('status_update_event').map((e) => [e['taskId'] === second.id, e['taskStatus']])).toEqual([
      [true, 'TASK_KILLED'],
      [false, 'TASK_RUNNING'],
    ]);
    expect(sim.tasksOf('/web')).toHaveLength(2);

    const labelled = await post(`${sim.url}/_sim/apps/web/labels`, {
      labels: { HAPROXY_0_VHOST: null, HAPROXY_0_PATH: '/x' },
    });
    expect(parse(labelled.body).labels).toEqual({ HAPROXY_GROUP: 'external', HAPROXY_0_PATH: '/x' });
    await s.waitFor((x) => x.ofType('api_post_event').length === 1, 'api_post_event');
    expect(sim.tasksOf('/web').map((t) => t.id)).toContain(first.id);

    const created = await post(`${sim.url}/_sim/apps`, { id: '/other', instances: 1, labels: {} });
    expect(created.status).toBe(201);
    expect((await post(`${sim.url}/_sim/apps`, { id: '/other' })).status).toBe(409);
    expect((await request(`${sim.url}/_sim/apps/other`, { method: 'DELETE' })).status).toBe(200);
    await s.waitFor((x) => x.ofType('app_terminated_event').length === 1, 'app_terminated_event');
    expect((await request(`${sim.url}/_sim/apps/other`, { method: 'DELETE' })).status).toBe(404);
    expect(parse((await post(`${sim.url}/_sim/apps/web/scale`, { instances: -1 })).body).message).toMatch(/instances/);
  });
});

describe('faults', () => {
  test('stream hang: a new stream gets no bytes at all, an open one goes silent', async () => {
    const sim = await start({ apps: [webApp] });
    const open = stream(`${sim.url}/v2/events`);
    await open.waitFor((s) => s.events.length === 1, 'greeting');
    await post(`${sim.url}/_sim/faults`, { stream: 'hang' });
    const hung = stream(`${sim.url}/v2/events`);
    const before = open.raw.length;
    await post(`${sim.url}/_sim/apps/web/scale`, { instances: 3 });
    expect(await getJson(`${sim.url}/_sim/faults`)).toEqual({ stream: 'hang' });

    await request(`${sim.url}/_sim/faults`, { method: 'DELETE' });
    const fresh = stream(`${sim.url}/v2/events`);
    await fresh.waitFor((s) => s.events.length === 1, 'greeting after clearing');
    // Marker: a later change reaches the fresh stream. The simulator writes each event to every stream
    // in turn, so whatever the hung ones were sent was written before it; one more round trip lets it land.
    await post(`${sim.url}/_sim/apps/web/scale`, { instances: 4 });
    await fresh.waitFor((s) => s.ofType('api_post_event').length === 1, 'the later change');
    await getJson(`${sim.url}/_sim/faults`);
    expect(hung.socketBytes).toBe(0);
    expect(hung.status).toBe(0);
    expect(hung.ended).toBe(false);
    expect(open.raw.length).toBe(before);
  });

  test('stream close ends open streams', async () => {
    const sim = await start();
    const a = stream(`${sim.url}/v2/events`);
    const b = stream(`${sim.url}/v2/events?event_type=status_update_event`);
    await a.waitFor((s) => s.events.length === 1, 'greeting');
    await b.waitFor((s) => s.status === 200, 'headers');
    await post(`${sim.url}/_sim/faults`, { stream: 'close' });
    await a.waitFor((s) => s.ended, 'end of stream a');
    await b.waitFor((s) => s.ended, 'end of stream b');
    expect(await getJson(`${sim.url}/_sim/faults`)).toEqual({});
  });

  test('apps faults: 503, invalid JSON, wrong shape, slow; cleared by DELETE', async () => {
    const sim = await start({ apps: [webApp] });
    const apps = `${sim.url}/v2/apps?embed=apps.tasks`;
    await post(`${sim.url}/_sim/faults`, { apps: '503' });
    expect((await request(apps)).status).toBe(503);

    await post(`${sim.url}/_sim/faults`, { apps: 'invalid-json' });
    const invalid = await request(apps);
    expect(invalid.status).toBe(200);
    expect(() => parse(invalid.body)).toThrow();

    await post(`${sim.url}/_sim/faults`, { apps: 'wrong-shape' });
    const wrong = parse((await request(apps)).body);
    expect(Array.isArray(wrong.apps)).toBe(false);

    await post(`${sim.url}/_sim/faults`, { apps: 'slow', delayMs: 100 });
    expect(await getJson(`${sim.url}/_sim/faults`)).toEqual({ apps: 'slow', delayMs: 100 });
    expect((await getJson(apps)).apps).toHaveLength(1);

    expect((await post(`${sim.url}/_sim/faults`, { apps: 'slow' })).status).toBe(400);
    expect((await post(`${sim.url}/_sim/faults`, { disk: 'full' })).status).toBe(400);
    await request(`${sim.url}/_sim/faults`, { method: 'DELETE' });
    expect((await getJson(apps)).apps).toHaveLength(1);
  });

  test('all down: sockets are refused (or 503), the control API keeps working', async () => {
    const sim = await start({ apps: [webApp] });
    const s = stream(`${sim.url}/v2/events`);
    await s.waitFor((x) => x.events.length === 1, 'greeting');
    await post(`${sim.url}/_sim/faults`, { all: 'down' });
    await s.waitFor((x) => x.ended, 'stream dropped');
    await expect(request(`${sim.url}/v2/apps`)).rejects.toThrow(/socket hang up|ECONNRESET/);
    await post(`${sim.url}/_sim/faults`, { all: 'down', as: '503' });
    expect((await request(`${sim.url}/v2/apps`)).status).toBe(503);
    await request(`${sim.url}/_sim/faults`, { method: 'DELETE' });
    expect((await request(`${sim.url}/v2/apps`)).status).toBe(200);
  });
});

describe('leader redirect, auth, TLS', () => {
  test('a non-leader redirects every /v2 request to the leader with the same path and query', async () => {
    const leader = await start({ apps: [webApp] });
    const follower = await start({ leader: { redirectTo: leader.url } });
    const r = await request(`${follower.url}/v2/apps?embed=apps.tasks&embed=apps.deployments`);
    expect(r.status).toBe(307);
    expect(r.headers.location).toBe(`${leader.url}/v2/apps?embed=apps.tasks&embed=apps.deployments`);
    expect((await request(`${follower.url}/v2/events?event_type=x`)).headers.location).toBe(
      `${leader.url}/v2/events?event_type=x`,
    );
    const followed = await fetch(`${follower.url}/v2/apps?embed=apps.tasks`);
    expect(((await followed.json()) as Body).apps[0]!.id).toBe('/web');

    await post(`${follower.url}/_sim/leader`, { redirectTo: leader.url, status: 302 });
    expect((await request(`${follower.url}/v2/info`)).status).toBe(302);
    await post(`${follower.url}/_sim/leader`, { redirectTo: null });
    expect((await request(`${follower.url}/v2/info`)).status).toBe(200);
  });

  test('basic auth: 401 without or with wrong credentials, 200 with them', async () => {
    const sim = await start({ auth: { basic: 'marathon:s3cret' } });
    const basic = (cred: string): Record<string, string> => ({
      Authorization: `Basic ${Buffer.from(cred).toString('base64')}`,
    });
    const none = await request(`${sim.url}/v2/apps`);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic/);
    expect((await request(`${sim.url}/v2/apps`, { headers: basic('marathon:wrong') })).status).toBe(401);
    expect((await request(`${sim.url}/v2/apps`, { headers: basic('marathon:s3cret') })).status).toBe(200);
    const s = stream(`${sim.url}/v2/events`, basic('marathon:s3cret'));
    await s.waitFor((x) => x.events.length === 1, 'authenticated stream');
    expect((await request(`${sim.url}/_sim/state`)).status).toBe(200);
  });

  test('DC/OS: service login with an RS256 JWT, token use, expiry forces a new login', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sim = await start({
      auth: { dcos: { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() } },
    });
    const login = (key: typeof privateKey, uid = 'mlb'): Promise<Reply> =>
      post(`${sim.url}/acs/api/v1/auth/login`, {
        uid,
        token: signRs256({ uid, exp: Math.floor(Date.now() / 1000) + 300 }, key),
      });

    expect((await request(`${sim.url}/v2/apps`)).status).toBe(401);
    expect((await login(other.privateKey)).status).toBe(401);
    const ok = await login(privateKey);
    expect(ok.status).toBe(200);
    const { token } = JSON.parse(ok.body) as { token: string };
    expect((await request(`${sim.url}/v2/apps`, { headers: { Authorization: `token=${token}` } })).status).toBe(200);
    expect((await request(`${sim.url}/v2/apps`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);

    await post(`${sim.url}/_sim/auth/expire`, {});
    const expired = await request(`${sim.url}/v2/apps`, { headers: { Authorization: `token=${token}` } });
    expect(expired.status).toBe(401);
    expect(expired.headers['www-authenticate']).toBe('acsjwt');
    const again = JSON.parse((await login(privateKey)).body) as { token: string };
    expect((await request(`${sim.url}/v2/apps`, { headers: { Authorization: `token=${again.token}` } })).status).toBe(
      200,
    );
    expect((await post(`${sim.url}/acs/api/v1/auth/login`, { uid: 'mlb' })).status).toBe(400);
  });

  test('TLS: served with the given certificate, verified with its CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-tls-'));
    try {
      try {
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-keyout',
            join(dir, 'key.pem'),
            '-out',
            join(dir, 'cert.pem'),
            '-days',
            '1',
            '-subj',
            '/CN=127.0.0.1',
            '-addext',
            'subjectAltName=IP:127.0.0.1',
          ],
          { stdio: 'ignore', timeout: 20000 },
        );
      } catch (err) {
        if (process.env['CI'] === 'true') throw err;
        console.warn(`SKIPPED TLS simulator test: openssl is not usable here (${(err as Error).message})`);
        return;
      }
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const sim = await start({ apps: [webApp], tls: { key: readFileSync(join(dir, 'key.pem')), cert } });
      expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const r = await request(`${sim.url}/v2/apps?embed=apps.tasks`, { ca: cert });
      expect(r.status).toBe(200);
      expect(parse(r.body).apps[0]!.id).toBe('/web');
      await expect(request(`${sim.url}/v2/apps`)).rejects.toThrow(/self[- ]signed|unable to verify/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('real task backends', () => {
  test('each task answers on its port; health follows the simulator; scale-down and kill stop servers', async () => {
    const sim = await start({ serveTasks: true, apps: [webApp] });
    const tasks = sim.tasksOf('/web');
    expect(tasks).toHaveLength(2);
    for (const t of tasks) {
      const r = await request(`http://127.0.0.1:${t.ports[0]}/hello`);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ app: '/web', task: t.id, path: '/hello' });
      expect((await request(`http://127.0.0.1:${t.ports[0]}/health`)).status).toBe(200);
    }
    expect(new Set(tasks.map((t) => t.ports[0])).size).toBe(2);

    await sim.setHealth(tasks[1].id, false);
    expect((await request(`http://127.0.0.1:${tasks[1].ports[0]}/health`)).status).toBe(503);

    await post(`${sim.url}/_sim/apps/web/scale`, { instances: 1 });
    expect(sim.tasksOf('/web').map((t) => t.id)).toEqual([tasks[0].id]);
    await expect(request(`http://127.0.0.1:${tasks[1].ports[0]}/`)).rejects.toThrow(/ECONNREFUSED/);

    await sim.killTask(tasks[0].id);
    await expect(request(`http://127.0.0.1:${tasks[0].ports[0]}/`)).rejects.toThrow(/ECONNREFUSED/);
    const [replacement] = sim.tasksOf('/web');
    expect(replacement.id).not.toBe(tasks[0].id);
    expect(parse((await request(`http://127.0.0.1:${replacement.ports[0]}/`)).body).task).toBe(replacement.id);
    expect(sim.serving).toBe(1);

    await sim.close();
    await expect(request(`http://127.0.0.1:${replacement.ports[0]}/`)).rejects.toThrow(/ECONNREFUSED/);
    await expect(request(`${sim.url}/v2/apps`)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('scenarios', () => {
  test('shipped scenarios load; demo has /mywebservernew on 10004 with an HTTP health check, plus a TCP app', async () => {
    const demo = loadScenario(join(ROOT, 'config/scenarios/demo.json'));
    const minimal = loadScenario(join(ROOT, 'config/scenarios/minimal.json'));
    if (!demo.ok || !minimal.ok) throw new Error(`${!demo.ok ? demo.error : ''} ${!minimal.ok ? minimal.error : ''}`);
    const sim = await startScenario({ ...demo.value, timeline: [] }, { serveTasks: true, seed: '1' });
    sims.push(sim);
    const apps = (await getJson(`${sim.url}/v2/apps?embed=apps.tasks`)).apps;
    const web = apps.find((a) => a.id === '/mywebservernew')!;
    expect(web).toMatchObject({
      instances: 2,
      labels: { HAPROXY_GROUP: 'external' },
      portDefinitions: [{ port: 10004 }],
      healthChecks: [{ protocol: 'HTTP', path: '/health' }],
    });
    expect(apps.some((a) => a.labels['HAPROXY_0_MODE'] === 'tcp')).toBe(true);
    expect((await request(`http://127.0.0.1:${web.tasks[0].ports[0]}/health`)).status).toBe(200);
    expect(minimal.value.apps).toHaveLength(1);
  });

  test('a timeline plays its steps in order and close() cancels the rest', async () => {
    const parsed = parseScenario(
      {
        apps: [webApp],
        timeline: [
          { atMs: 20, scale: { app: '/web', instances: 3 } },
          { atMs: 40, health: { app: '/web', index: -1, alive: false } },
          { atMs: 60, kill: { app: '/web', index: 0, scale: true } },
          { atMs: 60_000, deleteApp: '/web' },
        ],
      },
      'inline',
    );
    if (!parsed.ok) throw new Error(parsed.error);
    const lines: string[] = [];
    const sim = await startScenario(parsed.value, { seed: '2' }, (l) => lines.push(l));
    sims.push(sim);
    const seen: string[] = [];
    sim.onEvent((e) => seen.push(`${e.eventType}${typeof e['taskStatus'] === 'string' ? ':' + e['taskStatus'] : ''}`));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeline stalled: ${lines.join('; ')}`)), 3000);
      const poll = setInterval(() => {
        if (lines.length === 3) {
          clearTimeout(t);
          clearInterval(poll);
          resolve();
        }
      }, 10);
    });
    expect(lines.map((l) => l.replace(/^t\+\d+ms /, '').split(' ')[0])).toEqual([
      'scaled',
      expect.stringMatching(/^web\./),
      'killed',
    ]);
    expect(seen).toContain('status_update_event:TASK_RUNNING');
    expect(seen).toContain('health_status_changed_event');
    expect(seen).toContain('status_update_event:TASK_KILLED');
    expect(sim.tasksOf('/web')).toHaveLength(2);
    expect(sim.snapshot().apps[0].def.instances).toBe(2);
  });

  test('bad scenarios are rejected with one line naming the file and the step', () => {
    expect(parseScenario({ apps: [], timeline: [{ atMs: 5, explode: true }] }, 'x.json')).toEqual({
      ok: false,
      error: expect.stringMatching(/^scenario x\.json: timeline\[0\] needs exactly one action/),
    });
    const missing = loadScenario('/nonexistent/scenario.json');
    expect(missing).toEqual({
      ok: false,
      error: expect.stringMatching(/^scenario \/nonexistent\/scenario\.json: cannot read it \(ENOENT\)$/),
    });
  });
});
