import * as http from 'node:http';
import { Simulator } from '../../src/simulator';
import { normalizeAppDef } from '../../src/simulator/appDef';
import { createApp, findApp } from '../../src/simulator/state';
import { newTasks } from '../../src/simulator/taskGen';
import { emptyState } from '../../src/simulator/types';

// Issue 12: the simulator at scale. Only chosen apps get real task listeners; /v2/apps can be slowed
// per app, streamed in pieces rather than sent at the end.

/** GET `url` to its end; `onHead` is called when the answer's head arrives. */
const get = (
  url: string,
  onHead: () => void = () => undefined,
): Promise<{ pieces: number; firstPieceBeforeEnd: boolean; body: string }> =>
  new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        onHead();
        const chunks: Buffer[] = [];
        let firstAt = 0;
        res.on('data', (c: Buffer) => {
          if (chunks.length === 0) firstAt = Date.now();
          chunks.push(c);
        });
        res.on('close', () =>
          resolve({
            pieces: chunks.length,
            firstPieceBeforeEnd: firstAt < Date.now(),
            body: Buffer.concat(chunks).toString(),
          }),
        );
      })
      .on('error', reject);
  });

const app = (id: string, port: number): Record<string, unknown> => ({
  id,
  instances: 3,
  labels: { HAPROXY_GROUP: 'external' },
  portDefinitions: [{ port }],
});

test('serveTasksOf: only the chosen apps get real listeners, the others fake ports', async () => {
  const sim = await Simulator.start({
    serveTasks: true,
    serveTasksOf: (id) => id.startsWith('/served/'),
    apps: [app('/served/a', 10001), app('/filler/b', 10002), app('/filler/c', 10003)],
  });
  try {
    expect(sim.serving).toBe(3);
    await sim.scale('/filler/b', 5);
    await sim.scale('/served/a', 4);
    expect(sim.serving).toBe(4);
    const ports = sim.snapshot().apps.flatMap((a) => a.tasks.map((t) => t.ports[0]!));
    expect(new Set(ports).size).toBe(ports.length);
    const served = sim.tasksOf('/served/a')[3]!;
    const answer = await get(`http://127.0.0.1:${served.ports[0]}/`);
    expect(JSON.parse(answer.body)).toMatchObject({ app: '/served/a', task: served.id });
  } finally {
    await sim.close();
  }
});

test('appsLatencyPerAppMs streams /v2/apps in many pieces, the whole answer intact', async () => {
  const sim = await Simulator.start({
    appsLatencyPerAppMs: 100,
    apps: [app('/a', 10001), app('/b', 10002), app('/c', 10003), app('/d', 10004)],
  });
  try {
    const r = await get(`${sim.url}/v2/apps?embed=apps.tasks`);
    expect(r.pieces).toBeGreaterThan(2);
    expect(r.firstPieceBeforeEnd).toBe(true);
    expect(JSON.parse(r.body)).toEqual(sim.appsJson(true));
    sim.appsLatencyPerAppMs = 0;
    expect((await get(`${sim.url}/v2/apps`)).pieces).toBe(1);
  } finally {
    await sim.close();
  }
});

test('a closed simulator ends a slowed answer that is still streaming', async () => {
  const sim = await Simulator.start({ appsLatencyPerAppMs: 60_000, apps: [app('/a', 10001)] });
  let streaming!: () => void;
  const answering = new Promise<void>((r) => (streaming = r));
  const pending = get(`${sim.url}/v2/apps`, streaming).catch((e: Error) => e);
  await answering; // marker: the answer has begun (its head is here), its body is still to come
  await sim.close();
  const r = await pending;
  expect(r instanceof Error || r.body.length < JSON.stringify(sim.appsJson(true)).length).toBe(true);
}, 10_000);

// 10 000 apps are held the same way (bench:scale does); 2 000 keeps this test short on a shared machine.
test('holds 2 000 apps × 3 tasks without serving them', async () => {
  const sim = await Simulator.start({ serveTasks: true, serveTasksOf: () => false });
  try {
    for (let i = 0; i < 2_000; i++) await sim.createApp(app(`/bulk/app-${i}`, 20000 + i));
    const state = sim.snapshot();
    expect(state.apps).toHaveLength(2_000);
    expect(state.apps.reduce((n, a) => n + a.tasks.length, 0)).toBe(6_000);
    expect(sim.serving).toBe(0);
  } finally {
    await sim.close();
  }
}, 60_000);

test('fake host ports wrap from 65535 back to 31000 (beyond ~11 500 apps × 3 tasks on the one host)', () => {
  const state = { ...emptyState(), nextHostPort: 65534 };
  const def = normalizeAppDef(app('/bulk/last', 20000), state, '2026-12-02T00:00:00.000Z');
  if (!def.ok) throw new Error(def.error.message);
  const { tasks, state: after } = newTasks(def.value.def, 3, state, { now: 'now', host: '127.0.0.1', seed: 'ab' }, 0);
  expect(tasks.map((t) => t.ports[0])).toEqual([65534, 65535, 31000]);
  expect(after.nextHostPort).toBe(31001);
});

test('automatic service ports end at 65535: the next app is refused (422), as Marathon refuses when its range is used up', () => {
  const ctx = { now: '2026-12-02T00:00:00.000Z', host: '127.0.0.1', seed: 's' };
  let state = { ...emptyState(), nextServicePort: 65534 };
  const ports: number[] = [];
  for (const id of ['/a', '/b']) {
    const out = createApp(state, { id, instances: 0, portDefinitions: [{ port: 0 }] }, ctx);
    if (!out.ok) throw new Error(out.error.message);
    state = out.value.state;
    ports.push(findApp(state, id)!.def.portDefinitions![0]!.port);
  }
  expect(ports).toEqual([65534, 65535]);
  const refused = createApp(state, { id: '/c', instances: 0, portDefinitions: [{ port: 0 }] }, ctx);
  expect(refused).toMatchObject({ ok: false, error: { status: 422 } });
  // An app with its own port still fits.
  expect(createApp(state, { id: '/d', instances: 0, portDefinitions: [{ port: 12345 }] }, ctx).ok).toBe(true);
});

test('an app of more instances than the simulator holds (100 000) is refused with 422, as a definition error', async () => {
  const sim = await Simulator.start({});
  try {
    await expect(sim.createApp({ id: '/huge', instances: 1e9 })).rejects.toMatchObject({ status: 422 });
    await sim.createApp({ id: '/ok', instances: 1 });
    await expect(sim.scale('/ok', 100_001)).rejects.toMatchObject({ status: 422 });
    expect(sim.tasksOf('/ok')).toHaveLength(1);
  } finally {
    await sim.close();
  }
});
