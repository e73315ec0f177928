/**
 * The simulator's deploy API over real HTTP, as marathon-lb's zdd.py drives Marathon: create, scale,
 * delete, deployments (and their lock), `POST /v2/tasks/delete?scale=true`, health after the grace
 * period, readiness results, the matching events, and DC/OS login's cookie.
 */
import { generateKeyPairSync } from 'node:crypto';
import * as http from 'node:http';
import { signRs256, Simulator } from '../../src/simulator';
import type { SimEvent, SimulatorOptions } from '../../src/simulator';
import { READINESS_CHECKS } from '../support/fixtures';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}
interface TaskJson {
  id: string;
  ports: number[];
  version: string;
  healthCheckResults?: { alive: boolean }[];
}
interface ReadinessJson {
  name: string;
  taskId: string;
  ready: boolean;
  lastResponse?: { status: number };
}
interface AppJson {
  id: string;
  instances: number;
  version: string;
  tasks?: TaskJson[];
  deployments: { id: string }[];
  tasksHealthy: number;
  tasksUnhealthy: number;
  tasksRunning: number;
  readinessCheckResults?: ReadinessJson[];
  labels: Record<string, string>;
}
interface DeploymentJson {
  id: string;
  affectedApps: string[];
  currentStep: number;
  totalSteps: number;
  currentActions: { action: string; app: string; readinessCheckResults: ReadinessJson[] }[];
}

function request(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent: false,
        timeout: 5000,
        headers: { ...(payload ? { 'Content-Type': 'application/json' } : {}), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}
async function json<T>(url: string, method = 'GET', body?: unknown, status = 200): Promise<T> {
  const r = await request(url, method, body);
  expect({ status: r.status, body: r.body }).toMatchObject({ status });
  return JSON.parse(r.body) as T;
}
/** Connection refused (the task's server is closed) or the status a task answers. */
async function taskStatus(port: number, path = '/'): Promise<number | 'refused'> {
  try {
    return (await request(`http://127.0.0.1:${port}${path}`)).status;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return 'refused';
    throw err;
  }
}

const sims: Simulator[] = [];
async function start(opts: SimulatorOptions = {}): Promise<{
  sim: Simulator;
  events: SimEvent[];
  until: (p: (e: SimEvent) => boolean, what: string) => Promise<SimEvent>;
}> {
  const sim = await Simulator.start({ seed: 'abcdef012345', serveTasks: true, ...opts });
  sims.push(sim);
  const events: SimEvent[] = [];
  const waiters = new Set<() => void>();
  sim.onEvent((e) => {
    events.push(e);
    for (const w of [...waiters]) w();
  });
  /** Resolves with the first event (seen so far or later) matching `p`; fails after 5 s. */
  const until = (p: (e: SimEvent) => boolean, what: string): Promise<SimEvent> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = events.find(p);
        if (!hit) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; saw ${events.map((e) => e.eventType).join(', ')}`));
      }, 5000);
      waiters.add(check);
      check();
    });
  return { sim, events, until };
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

const healthChecks = [
  {
    protocol: 'MESOS_HTTP',
    path: '/health',
    portIndex: 0,
    gracePeriodSeconds: 20,
    intervalSeconds: 1,
    maxConsecutiveFailures: 3,
  },
];
const blue = {
  id: '/web-blue',
  instances: 2,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_DEPLOYMENT_GROUP: 'web' },
  healthChecks,
  portDefinitions: [{ port: 10000, name: 'http' }],
};
const types = (events: readonly SimEvent[]): string[] => events.map((e) => e.eventType);

describe('deployments (timeScale set: 1 Marathon second = 50 ms)', () => {
  test('POST /v2/apps: tasks run at once, turn healthy after gracePeriodSeconds, then the deployment succeeds', async () => {
    const { sim, events, until } = await start({ timeScale: 0.05 });
    const created = await json<AppJson>(`${sim.url}/v2/apps`, 'POST', blue, 201);
    expect(created.deployments).toHaveLength(1);
    const [dep] = await json<DeploymentJson[]>(`${sim.url}/v2/deployments`);
    expect(dep).toMatchObject({
      id: created.deployments[0]!.id,
      affectedApps: ['/web-blue'],
      currentStep: 1,
      totalSteps: 1,
      currentActions: [{ action: 'StartApplication', app: '/web-blue', readinessCheckResults: [] }],
    });

    const { app } = await json<{ app: AppJson }>(`${sim.url}/v2/apps/web-blue`);
    expect(app).toMatchObject({ tasksRunning: 2, tasksHealthy: 0, tasksUnhealthy: 0, deployments: [{ id: dep!.id }] });
    expect(app.tasks!.map((t) => t.healthCheckResults)).toEqual([undefined, undefined]);
    // The task servers answer already (their health path 503 until the first check passes).
    expect(await taskStatus(app.tasks![0]!.ports[0]!, '/')).toBe(200);
    expect(await taskStatus(app.tasks![0]!.ports[0]!, '/health')).toBe(503);

    await until((e) => e.eventType === 'deployment_success', 'deployment_success');
    expect(types(events)).toEqual([
      'api_post_event',
      'deployment_info',
      'status_update_event',
      'status_update_event',
      'health_status_changed_event',
      'health_status_changed_event',
      'deployment_step_success',
      'deployment_success',
    ]);
    expect(events.filter((e) => e.eventType === 'status_update_event').map((e) => e['taskStatus'])).toEqual([
      'TASK_RUNNING',
      'TASK_RUNNING',
    ]);
    expect(events.find((e) => e.eventType === 'deployment_success')).toMatchObject({ id: dep!.id });

    const after = (await json<{ app: AppJson }>(`${sim.url}/v2/apps/web-blue`)).app;
    expect(after).toMatchObject({ tasksHealthy: 2, deployments: [] });
    expect(after.tasks!.map((t) => t.healthCheckResults?.[0]?.alive)).toEqual([true, true]);
    expect(await taskStatus(after.tasks![0]!.ports[0]!, '/health')).toBe(200);
    expect(await json<unknown[]>(`${sim.url}/v2/deployments`)).toEqual([]);
    // The list embeds deployments and counts by default, tasks only when asked for.
    const list = await json<{ apps: AppJson[] }>(`${sim.url}/v2/apps`);
    expect(list.apps[0]).toMatchObject({ id: '/web-blue', deployments: [], tasksHealthy: 2 });
    expect(list.apps[0]!.tasks).toBeUndefined();
  });

  test('PUT during a deployment: 409 (locked) unless ?force=true, which cancels it; instances and labels change', async () => {
    const { sim, events, until } = await start({ timeScale: 0.05 });
    const first = (await json<AppJson>(`${sim.url}/v2/apps`, 'POST', blue, 201)).deployments[0]!.id;
    const locked = await request(`${sim.url}/v2/apps/web-blue`, 'PUT', { instances: 3 });
    expect(locked.status).toBe(409);
    expect((JSON.parse(locked.body) as { message: string }).message).toContain(
      "App is locked by one or more deployments. Override with the option '?force=true'",
    );

    const put = await json<{ version: string; deploymentId: string }>(`${sim.url}/v2/apps/web-blue?force=true`, 'PUT', {
      instances: 3,
      labels: { ...blue.labels, HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '3' },
    });
    expect(events.find((e) => e.eventType === 'deployment_failed')).toMatchObject({ id: first });
    const deps = await json<DeploymentJson[]>(`${sim.url}/v2/deployments`);
    expect(deps.map((d) => d.id)).toEqual([put.deploymentId]);
    expect(deps[0]!.currentActions[0]!.action).toBe('ScaleApplication');
    const { app } = await json<{ app: AppJson }>(`${sim.url}/v2/apps/web-blue`);
    expect(app).toMatchObject({ instances: 3, labels: { HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '3' } });
    expect(app.tasks).toHaveLength(3);

    // The scale deployment waits for all three (the two first ones are still in their grace period too).
    await until(
      (e) => e.eventType === 'deployment_success' && e['id'] === put.deploymentId,
      'the scale deployment to end',
    );
    expect((await json<{ app: AppJson }>(`${sim.url}/v2/apps/web-blue`)).app).toMatchObject({
      tasksHealthy: 3,
      deployments: [],
    });
    // Once it is over, a PUT goes through without force.
    expect((await request(`${sim.url}/v2/apps/web-blue`, 'PUT', { instances: 2 })).status).toBe(200);
  });

  test('POST /v2/tasks/delete?scale=true kills the listed tasks, lowers instances, stops their servers', async () => {
    const { sim, events, until } = await start({ timeScale: 0.05 });
    const created = await json<AppJson>(`${sim.url}/v2/apps`, 'POST', { ...blue, instances: 3 }, 201);
    await until((e) => e.eventType === 'deployment_success', 'the create deployment');
    const tasks = (await json<{ app: AppJson }>(`${sim.url}/v2/apps/web-blue`)).app.tasks!;
    const [a, b, c] = tasks;
    events.length = 0;

    const reply = await json<{ version: string; deploymentId: string }>(
      `${sim.url}/v2/tasks/delete?scale=true`,
      'POST',
      { ids: [a!.id, c!.id, 'nope.00000000-0000-4000-8000-000000000000'] },
    );
    expect(reply.deploymentId).not.toBe(created.deployments[0]!.id);
    const { app } = await json<{ app: AppJson }>(`${sim.url}/v2/apps/web-blue`);
    expect(app.instances).toBe(1);
    expect(app.tasks!.map((t) => t.id)).toEqual([b!.id]);
    expect(await taskStatus(a!.ports[0]!)).toBe('refused');
    expect(await taskStatus(c!.ports[0]!)).toBe('refused');
    expect(await taskStatus(b!.ports[0]!)).toBe(200);
    expect(types(events)).toEqual([
      'status_update_event',
      'status_update_event',
      'api_post_event',
      'deployment_info',
      'deployment_step_success',
      'deployment_success',
    ]);
    expect(events.slice(0, 2).map((e) => [e['taskId'], e['taskStatus']])).toEqual([
      [a!.id, 'TASK_KILLED'],
      [c!.id, 'TASK_KILLED'],
    ]);
    expect(events.find((e) => e.eventType === 'deployment_success')).toMatchObject({ id: reply.deploymentId });

    // Without scale, Marathon replaces each killed task; the answer lists the killed tasks.
    const killed = await json<{ tasks: TaskJson[] }>(`${sim.url}/v2/tasks/delete`, 'POST', { ids: [b!.id] });
    expect(killed.tasks.map((t) => t.id)).toEqual([b!.id]);
    const replaced = (await json<{ app: AppJson }>(`${sim.url}/v2/apps/web-blue`)).app;
    expect(replaced.instances).toBe(1);
    expect(replaced.tasks!.map((t) => t.id)).not.toContain(b!.id);
    expect(replaced.tasks).toHaveLength(1);

    expect((await request(`${sim.url}/v2/tasks/delete?scale=true`, 'POST', { ids: 'x' })).status).toBe(422);
  });

  test('DELETE /v2/apps/{id}: locked during a deployment unless forced; kills the tasks, app_terminated_event', async () => {
    const { sim, events, until } = await start({ timeScale: 0.05 });
    await json<AppJson>(`${sim.url}/v2/apps`, 'POST', blue, 201);
    expect((await request(`${sim.url}/v2/apps/web-blue`, 'DELETE')).status).toBe(409);
    await until((e) => e.eventType === 'deployment_success', 'the create deployment');
    const ports = (await json<{ app: AppJson }>(`${sim.url}/v2/apps/web-blue`)).app.tasks!.map((t) => t.ports[0]!);
    events.length = 0;
    const reply = await json<{ deploymentId: string }>(`${sim.url}/v2/apps/web-blue`, 'DELETE');
    expect(types(events)).toEqual([
      'deployment_info',
      'status_update_event',
      'status_update_event',
      'app_terminated_event',
      'deployment_step_success',
      'deployment_success',
    ]);
    expect(events.at(-1)).toMatchObject({ id: reply.deploymentId });
    expect((await request(`${sim.url}/v2/apps/web-blue`)).status).toBe(404);
    expect(await Promise.all(ports.map((p) => taskStatus(p)))).toEqual(['refused', 'refused']);
  });

  test('a restart (health checks changed) keeps the old tasks serving until the new ones are healthy, then kills them', async () => {
    const { sim, events, until } = await start({ timeScale: 0.05 });
    await json<AppJson>(`${sim.url}/v2/apps`, 'POST', blue, 201);
    await until((e) => e.eventType === 'deployment_success', 'the create deployment');
    const old = (await json<{ app: AppJson }>(`${sim.url}/v2/apps/web-blue`)).app.tasks!;
    events.length = 0;
    const put = await json<{ deploymentId: string }>(`${sim.url}/v2/apps/web-blue`, 'PUT', {
      healthChecks: [{ ...healthChecks[0], path: '/healthz' }],
    });
    const during = (await json<{ app: AppJson }>(`${sim.url}/v2/apps/web-blue`)).app;
    expect(during.tasks!.map((t) => t.id).slice(0, 2)).toEqual(old.map((t) => t.id));
    expect(during).toMatchObject({
      instances: 2,
      tasksRunning: 4,
      tasksHealthy: 2,
      deployments: [{ id: put.deploymentId }],
    });
    expect((await json<DeploymentJson[]>(`${sim.url}/v2/deployments`))[0]!.currentActions[0]!.action).toBe(
      'RestartApplication',
    );
    expect(await Promise.all(old.map((t) => taskStatus(t.ports[0]!)))).toEqual([200, 200]);

    await until((e) => e.eventType === 'deployment_success', 'the restart to end');
    expect(types(events)).toEqual([
      'api_post_event',
      'deployment_info',
      'status_update_event',
      'status_update_event',
      'health_status_changed_event',
      'health_status_changed_event',
      'status_update_event',
      'status_update_event',
      'deployment_step_success',
      'deployment_success',
    ]);
    expect(events.slice(6, 8).map((e) => [e['taskId'], e['taskStatus']])).toEqual(
      old.map((t) => [t.id, 'TASK_KILLED']),
    );
    const after = (await json<{ app: AppJson }>(`${sim.url}/v2/apps/web-blue`)).app;
    expect(after.tasks!.map((t) => t.id)).toEqual(during.tasks!.slice(2).map((t) => t.id));
    expect(await Promise.all(old.map((t) => taskStatus(t.ports[0]!)))).toEqual(['refused', 'refused']);
  });

  test('PUT /v2/apps/{id} of an unknown app creates it (201); DELETE /v2/deployments/{id} ends a deployment', async () => {
    const { sim, events } = await start({ timeScale: 0.05 });
    const def: Record<string, unknown> = { ...blue };
    delete def['id'];
    const put = await json<{ deploymentId: string }>(`${sim.url}/v2/apps/web-green`, 'PUT', def, 201);
    expect((await json<{ app: AppJson }>(`${sim.url}/v2/apps/web-green`)).app.deployments).toEqual([
      { id: put.deploymentId },
    ]);
    expect((await request(`${sim.url}/v2/deployments/${put.deploymentId}`, 'DELETE')).status).toBe(202);
    expect(events.find((e) => e.eventType === 'deployment_failed')).toMatchObject({ id: put.deploymentId });
    expect(await json<unknown[]>(`${sim.url}/v2/deployments`)).toEqual([]);
    expect((await request(`${sim.url}/v2/deployments/${put.deploymentId}`, 'DELETE')).status).toBe(404);
  });
});

describe('readiness', () => {
  const readinessChecks = [{ ...READINESS_CHECKS[0], preserveLastResponse: true }];
  const ready = { ...blue, id: '/ready-app', readinessChecks };

  test('results while the deployment runs: not ready until set, then the deployment ends and results go', async () => {
    const { sim, events, until } = await start({ timeScale: 0.05, readyAfterSeconds: Infinity });
    await json<AppJson>(`${sim.url}/v2/apps`, 'POST', ready, 201);
    const healthy = (): number => events.filter((e) => e.eventType === 'health_status_changed_event').length;
    await until(() => healthy() === 2, 'both tasks to turn healthy');
    const { app } = await json<{ app: AppJson }>(`${sim.url}/v2/apps/ready-app`);
    const [a, b] = app.tasks!;
    expect(app.tasksHealthy).toBe(2);
    expect(app.readinessCheckResults).toEqual([
      {
        name: 'readinessCheck',
        taskId: a!.id,
        ready: false,
        lastResponse: { status: 503, contentType: 'application/json', body: '' },
      },
      {
        name: 'readinessCheck',
        taskId: b!.id,
        ready: false,
        lastResponse: { status: 503, contentType: 'application/json', body: '' },
      },
    ]);
    // As Marathon: in the list only with embed=apps.readiness; in the deployment's current action.
    expect(
      (await json<{ apps: AppJson[] }>(`${sim.url}/v2/apps?embed=apps.tasks`)).apps[0]!.readinessCheckResults,
    ).toBeUndefined();
    const listed = await json<{ apps: AppJson[] }>(`${sim.url}/v2/apps?embed=apps.tasks&embed=apps.readiness`);
    expect(listed.apps[0]!.readinessCheckResults!.map((r) => r.ready)).toEqual([false, false]);
    const [dep] = await json<DeploymentJson[]>(`${sim.url}/v2/deployments`);
    expect(dep!.currentActions[0]!.readinessCheckResults.map((r) => r.taskId)).toEqual([a!.id, b!.id]);
    expect(await taskStatus(a!.ports[0]!, '/ready')).toBe(503);
    expect(await taskStatus(a!.ports[0]!, '/')).toBe(200);

    expect((await request(`${sim.url}/_sim/tasks/${a!.id}/ready`, 'POST', { ready: true })).status).toBe(200);
    expect(await taskStatus(a!.ports[0]!, '/ready')).toBe(200);
    const half = (await json<{ app: AppJson }>(`${sim.url}/v2/apps/ready-app`)).app;
    expect(half.readinessCheckResults!.map((r) => [r.taskId, r.ready])).toEqual([
      [a!.id, true],
      [b!.id, false],
    ]);
    expect(half.deployments).toHaveLength(1);

    await sim.setReady(b!.id, true);
    await until((e) => e.eventType === 'deployment_success', 'deployment_success');
    const done = (await json<{ app: AppJson }>(`${sim.url}/v2/apps/ready-app`)).app;
    expect(done).toMatchObject({ deployments: [], readinessCheckResults: [] });
    expect((await request(`${sim.url}/_sim/tasks/${a!.id}/ready`, 'POST', { ready: 'yes' })).status).toBe(400);
    const plain = await json<AppJson>(`${sim.url}/v2/apps`, 'POST', { id: '/plain', instances: 1 }, 201);
    const plainTask = sim.tasksOf('/plain')[0]!;
    expect(plain.id).toBe('/plain');
    expect((await request(`${sim.url}/_sim/tasks/${plainTask.id}/ready`, 'POST', { ready: true })).status).toBe(422);
  });

  test('without readyAfterSeconds a task turns ready intervalSeconds after it is healthy, ending the deployment', async () => {
    const { sim, events, until } = await start({ timeScale: 0.05 });
    await json<AppJson>(`${sim.url}/v2/apps`, 'POST', { ...ready, instances: 1 }, 201);
    const success = await until((e) => e.eventType === 'deployment_success', 'deployment_success');
    expect(types(events).slice(-3)).toEqual([
      'health_status_changed_event',
      'deployment_step_success',
      'deployment_success',
    ]);
    expect(success).toMatchObject({ eventType: 'deployment_success' });
    const task = sim.tasksOf('/ready-app')[0]!;
    expect(task.ready).toBe(true);
    expect(await taskStatus(task.ports[0]!, '/ready')).toBe(200);
  });

  test('notReadyAnswers503: a task that is not ready fails every request but its health checks', async () => {
    const { sim } = await start({ timeScale: 0.05, readyAfterSeconds: Infinity, notReadyAnswers503: true });
    await json<AppJson>(
      `${sim.url}/v2/apps`,
      'POST',
      { id: '/warm', instances: 1, readinessChecks, portDefinitions: [{ port: 10005 }] },
      201,
    );
    const task = sim.tasksOf('/warm')[0]!;
    expect([
      await taskStatus(task.ports[0]!, '/'),
      await taskStatus(task.ports[0]!, '/ready'),
      await taskStatus(task.ports[0]!, '/health'),
    ]).toEqual([503, 503, 200]);
    await sim.setReady(task.id, true);
    expect([await taskStatus(task.ports[0]!, '/'), await taskStatus(task.ports[0]!, '/ready')]).toEqual([200, 200]);
  });

  test("an app that declares no ports gets Marathon's default one: a port definition on host networking, a mapping with a host port on bridge", async () => {
    const { sim } = await start({});
    await json(`${sim.url}/v2/apps`, 'POST', { id: '/plain', cmd: 'serve $PORT0', instances: 1 }, 201);
    const bridged = {
      id: '/bridged',
      instances: 1,
      container: { type: 'DOCKER', docker: { image: 'x', network: 'BRIDGE' } },
    };
    await json(`${sim.url}/v2/apps`, 'POST', bridged, 201);
    await json(`${sim.url}/v2/apps`, 'POST', { id: '/none', cmd: 'x', instances: 1, portDefinitions: [] }, 201);
    type Ported = AppJson & {
      portDefinitions?: { port: number; name?: string }[];
      container?: { portMappings?: { containerPort: number; hostPort: number; servicePort: number }[] };
    };
    const { apps } = await json<{ apps: Ported[] }>(`${sim.url}/v2/apps?embed=apps.tasks`);
    const byId = new Map(apps.map((a) => [a.id, a]));
    expect(byId.get('/plain')!.portDefinitions).toEqual([expect.objectContaining({ port: 10000, name: 'default' })]);
    expect(byId.get('/plain')!.tasks![0]!.ports).toHaveLength(1);
    expect(byId.get('/bridged')!.container!.portMappings).toEqual([
      expect.objectContaining({ containerPort: 0, hostPort: 0, servicePort: 10001 }),
    ]);
    expect(byId.get('/bridged')!.tasks![0]!.ports).toHaveLength(1);
    expect(byId.get('/none')!.portDefinitions).toEqual([]);
    expect(byId.get('/none')!.tasks![0]!.ports).toEqual([]);
  });

  test('without timeScale everything happens at once: healthy and ready, no deployment left', async () => {
    const { sim, events } = await start();
    const created = await json<AppJson>(`${sim.url}/v2/apps`, 'POST', ready, 201);
    expect(created).toMatchObject({ deployments: [], tasksHealthy: 2 });
    expect((await json<{ app: AppJson }>(`${sim.url}/v2/apps/ready-app`)).app.readinessCheckResults).toEqual([]);
    expect(await json<unknown[]>(`${sim.url}/v2/deployments`)).toEqual([]);
    expect(types(events).slice(-2)).toEqual(['deployment_step_success', 'deployment_success']);
    await expect(Simulator.start({ timeScale: 0 })).rejects.toThrow('timeScale must be a number > 0');
  });
});

describe('DC/OS login', () => {
  test('answers with the token and the dcos-acs-auth-cookie (what marathon-lb reads), honouring exp', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { sim } = await start({
      serveTasks: false,
      auth: { dcos: { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() } },
    });
    const now = Math.floor(Date.now() / 1000);
    const reply = await request(`${sim.url}/acs/api/v1/auth/login`, 'POST', {
      uid: 'mlb',
      token: signRs256({ uid: 'mlb', exp: now + 60 }, privateKey),
      exp: now + 3600,
    });
    expect(reply.status).toBe(200);
    const { token } = JSON.parse(reply.body) as { token: string };
    const cookies = reply.headers['set-cookie'] ?? [];
    expect(cookies).toHaveLength(2);
    const auth = /^dcos-acs-auth-cookie=([^;]+); Expires=[^;]+ GMT; Max-Age=(\d+); Path=\/; HttpOnly$/.exec(
      cookies[0]!,
    );
    expect(auth?.[1]).toBe(token);
    expect(Number(auth?.[2])).toBeGreaterThan(3500);
    expect(Number(auth?.[2])).toBeLessThanOrEqual(3600);
    const info = /^dcos-acs-info-cookie=([^;]+);/.exec(cookies[1]!);
    expect(JSON.parse(Buffer.from(info![1]!, 'base64').toString('utf8'))).toEqual({
      uid: 'mlb',
      description: 'mlb',
      is_remote: false,
    });
    // marathon-lb sends `Authorization: token=<cookie value>`.
    expect((await request(`${sim.url}/v2/apps`, 'GET', undefined, { Authorization: `token=${auth![1]}` })).status).toBe(
      200,
    );
    expect((await request(`${sim.url}/v2/apps`)).status).toBe(401);
  });
});
