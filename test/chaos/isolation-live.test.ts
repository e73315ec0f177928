/**
 * Chaos on the live service (simulator with real task servers, real controller, real HAProxy):
 * - an app left out by `haproxy -c`: later task churn of other apps goes through the runtime API,
 *   reload reasons name real changes only, and a changed definition is tried again;
 * - a new app whose port another process holds, or whose bind address is not this host's: left
 *   out before the reload (which would pause every listener), named, and tried again later;
 * - an app whose config passes `haproxy -c` but that HAProxy cannot run (a port of its frontend is
 *   held by another process): the reload failure names it, it is left out and everyone else's change is
 *   applied in the same apply — no failed apply, no backoff; found by trial reloads when
 *   HAProxy's alert does not name one of our backends.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freeLoopbackBlock, httpGet, startLive, type LiveSystem } from '../../src/demo/live';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { haproxyServers } from '../support/liveSystem';
import { describeWithHaproxy } from '../support/haproxy';
import { waitFor } from '../support/wait';
import type { ApplyRecord } from '../../src/admin/statusTypes';
import { countingHaproxy } from './isolationSupport';

const taskOf = (body: string): string => (JSON.parse(body) as { task: string }).task;
const BAD_HEAD = '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  this-is-not-haproxy on\n';
/** An app on the loopback, with the vhost `<id>.example.com` and `labels` beside. */
const app = (id: string, port: number, labels: Record<string, string> = {}, instances = 1) => ({
  id,
  instances,
  portDefinitions: [{ port }],
  labels: {
    HAPROXY_GROUP: 'external',
    HAPROXY_0_BIND_ADDR: '127.0.0.1',
    HAPROXY_0_VHOST: `${id.slice(1)}.example.com`,
    ...labels,
  },
});

describeWithHaproxy('chaos: apps HAProxy rejects, at haproxy -c and at the health gate', (haproxy) => {
  let live: LiveSystem;
  let base: number;
  let dir: string;
  let checks: () => number;
  const logs: LogLine[] = [];
  const held: Server[] = [];
  const status = () => live.service.status.status();
  const reloads = async (): Promise<number> => {
    const p = await live.service.haproxy.showProc();
    return p.ok ? p.value.master.reloads : -1;
  };
  const leftOut = (appId: string) => status().leftOut.find((p) => p.appId === appId);
  /** Requests through HAProxy's :80 frontend until `want(task)` holds for an answer (bounded); counts them. */
  let served = 0;
  const until = async (host: string, want: (task: string) => boolean, tries = 300): Promise<string> => {
    for (let i = 0; i < tries; i++) {
      const a = await httpGet(live.ports.http, host).catch(() => undefined);
      if (a?.status === 200) served++;
      if (a?.status === 200 && want(taskOf(a.body))) return taskOf(a.body);
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no answer from the wanted task of ${host} after ${tries} requests`);
  };
  /** Holds host:port like another program would (no SO_REUSEPORT): HAProxy cannot bind it. */
  const hold = (port: number, host = '127.0.0.1'): Promise<Server> =>
    new Promise((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen({ host, port, exclusive: true }, () => resolve(s));
    });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mlb-chaos-gate-'));
    const counting = countingHaproxy(dir, haproxy.bin);
    checks = counting.checks;
    base = await freeLoopbackBlock(10);
    live = await startLive({
      apps: [app('/web', base, {}, 2), app('/broken', base + 1, { HAPROXY_0_BACKEND_HEAD: BAD_HEAD })],
      flags: ['--haproxy-bin', counting.bin],
      logger: memoryLogger(logs),
    });
    await waitFor(
      'web served, broken left out',
      () => status().services.length === 1 && leftOut('/broken') !== undefined,
      30000,
    );
  }, 60000);
  afterAll(async () => {
    await live?.stop();
    for (const s of held) s.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (process.env.MLB_TEST_LOGS) for (const l of logs) console.log(`${l.level} ${l.msg}`);
  }, 30000);

  test('one app left out, then another app scales: runtime API, no reload, the new task answers', async () => {
    expect(leftOut('/broken')?.message).toMatch(
      /HAProxy rejects the config of backend broken_\d+, left out: .*this-is-not-haproxy/,
    );
    const reloadsBefore = await reloads();
    const checksBefore = checks();
    const appliesBefore = status().recentApplies.length;
    await live.sim.scale('/web', 3);
    const newest = live.sim.tasksOf('/web')[2]!.id;
    await until('web.example.com', (t) => t === newest);
    // The task's own apply; the snapshot it triggers may be recorded after it, with nothing left to do.
    const added = (): ApplyRecord | undefined =>
      status()
        .recentApplies.slice(0, status().recentApplies.length - appliesBefore)
        .find((a) => /^runtime API: 1 server\(s\) added to web_/.test(a.reasons[0] ?? ''));
    await waitFor('the apply to be recorded', () => added() !== undefined);
    expect(added()).toMatchObject({ reloaded: false, runtimeOps: 1 });
    expect(await reloads()).toBe(reloadsBefore);
    expect(checks() - checksBefore).toBe(0); // runtime-only: HAProxy's runtime API accepted the server, no haproxy -c, no isolation
    expect(logs.filter((l) => /reloading HAProxy:.*broken/.test(l.msg))).toEqual([]);
    expect(leftOut('/broken')).toBeDefined(); // still named on every snapshot
  });

  test('reload reasons name the real change only; a changed definition of the left-out app is tried again', async () => {
    const appliesBefore = status().recentApplies.length;
    await live.sim.createApp(app('/api', base + 2));
    await until('api.example.com', () => true);
    // Newest first; the snapshot writing the file of test 1's fast-path apply may be recorded around it.
    const reloadSince = (count: number) =>
      status()
        .recentApplies.slice(0, status().recentApplies.length - count)
        .find((a) => a.reloaded);
    await waitFor('the reload to be recorded', () => reloadSince(appliesBefore) !== undefined);
    expect(reloadSince(appliesBefore)).toMatchObject({ reloaded: true, reasons: [`backend api_${base + 2} added`] });
    // The owner fixes the label: tried again, served.
    const appliesBeforeFix = status().recentApplies.length;
    await live.sim.setLabels('/broken', { HAPROXY_0_BACKEND_HEAD: null });
    await until('broken.example.com', () => true);
    await waitFor('no longer left out', () => leftOut('/broken') === undefined);
    await waitFor('the reload to be recorded', () => reloadSince(appliesBeforeFix) !== undefined);
    expect(reloadSince(appliesBeforeFix)?.reasons).toEqual([`backend broken_${base + 1} added`]);
  });

  /** Requests to `host` through HAProxy's :80 frontend, one after another, until stopped: the answers that were not 200. */
  const watch = (host: string): { stop(): Promise<{ readonly ok: number; readonly failed: readonly string[] }> } => {
    let running = true;
    let ok = 0;
    const failed: string[] = [];
    const loop = (async () => {
      while (running) {
        const a = await httpGet(live.ports.http, host).catch((e: Error) => ({ status: e.message }));
        if (a.status === 200) ok++;
        else failed.push(String(a.status));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return { ok, failed };
      },
    };
  };

  test("new apps HAProxy could not bind (a port another process holds, an address not this host's) are left out before the reload: no request to another app fails; tried again later", async () => {
    held.push(await hold(base + 3));
    const failuresBefore = status().recentFailures.length;
    const web = live.sim.tasksOf('/web').length;
    const traffic = watch('web.example.com');
    // One snapshot: a new app whose port another process holds, one bound to an address that is
    // not this host's, another new app, and a scale-down.
    await Promise.all([
      live.sim.createApp(app('/hog', base + 3)),
      live.sim.createApp(app('/far', base + 7, { HAPROXY_0_BIND_ADDR: '192.0.2.7' })),
      live.sim.createApp(app('/fresh', base + 4)),
      live.sim.scale('/web', web - 1),
    ]);
    await until('fresh.example.com', () => true, 1000);
    await waitFor('hog named', () => leftOut('/hog') !== undefined, 15000);
    const answers = await traffic.stop();
    // A reload that cannot bind pauses every listener while HAProxy retries: ~2 s of refused connections.
    expect(answers.failed).toEqual([]);
    expect(answers.ok).toBeGreaterThan(10);
    expect(leftOut('/hog')?.message).toBe(
      `HAProxy cannot bind 127.0.0.1:${base + 3} for backend hog_${base + 3}: another process holds it (found before reloading HAProxy, whose reload would pause every app's listeners while it retried); tried again 30 s later, then less often`,
    );
    if (readFileSync('/proc/sys/net/ipv4/ip_nonlocal_bind', 'utf8').trim() !== '1') {
      expect(leftOut('/far')).toMatchObject({
        label: 'HAPROXY_0_BIND_ADDR',
        message: expect.stringMatching(
          /^HAProxy cannot bind 192\.0\.2\.7:\d+ for backend far_\d+: 192\.0\.2\.7 is not an address of this host/,
        ),
      });
    }
    expect(logs.filter((l) => /HAProxy refused the new config/.test(l.msg))).toEqual([]);
    expect(status().recentFailures.length).toBe(failuresBefore); // never failed, so never waited for a backoff
    expect(status().services.map((s) => s.backend)).not.toContain(`hog_${base + 3}`);
    await waitFor(
      'web scaled down',
      () => status().services.find((s) => s.backend === `web_${base}`)?.servers.length === web - 1,
    );

    // Remembered: the next task change of another app is a runtime update again.
    const reloadsBefore = await reloads();
    await live.sim.scale('/web', web);
    const newest = live.sim.tasksOf('/web')[web - 1]!.id;
    await until('web.example.com', (t) => t === newest);
    expect(await reloads()).toBe(reloadsBefore);

    // The port is free again, and nothing in Marathon changes: a snapshot 30 s after the refusal
    // (a SIGHUP here, a resync or any change in a cluster) tries it again, and it is served.
    await new Promise<void>((r) => held.pop()!.close(() => r()));
    await new Promise((r) => setTimeout(r, 30_500)); // the refusal was earlier still
    live.service.signals.next('hup');
    await until('hog.example.com', () => true);
    await waitFor('hog no longer left out', () => leftOut('/hog') === undefined);
  }, 70000);

  test('when HAProxy does not name one of our backends, trial reloads find the app (bounded)', async () => {
    // Held on a second address its frontend binds: the check before the reload knows the app's own
    // address only, so HAProxy's reload fails on it.
    held.push(await hold(base + 5, '127.0.0.2'));
    const failuresBefore = status().recentFailures.length;
    // Its own frontend name: HAProxy's alert names "hidden_<port>", which is no backend.
    const hidden = {
      HAPROXY_0_FRONTEND_HEAD:
        '\nfrontend hidden_{servicePort}\n  bind {bindAddr}:{servicePort}\n  bind 127.0.0.2:{servicePort}\n  mode {mode}\n',
    };
    const reloadsBefore = await reloads();
    await Promise.all([live.sim.createApp(app('/sly', base + 5, hidden)), live.sim.createApp(app('/late', base + 6))]);
    await until('late.example.com', () => true, 600);
    await waitFor('sly named', () => leftOut('/sly') !== undefined, 30000);
    expect(leftOut('/sly')?.message).toMatch(/HAProxy cannot run backend sly_\d+ .*cannot bind socket/);
    expect(status().recentFailures.length).toBe(failuresBefore);
    expect(logs.some((l) => /trial reloads among 2 changed service\(s\)/.test(l.msg))).toBe(true);
    // The failed reload, at most 16 trial reloads (the applier's bound), the final reload.
    expect((await reloads()) - reloadsBefore).toBeLessThanOrEqual(18);
    await until('web.example.com', () => true);
    expect(served).toBeGreaterThan(0);
  }, 60000);

  test("a new app asking for a served app's port, with an id that sorts first, is left out: the served app keeps it", async () => {
    await live.sim.createApp(app('/aaa-clash', base)); // /web's port
    await waitFor('the newcomer named', () => leftOut('/aaa-clash') !== undefined, 30000);
    expect(leftOut('/aaa-clash')?.message).toBe(
      `service port ${base} is served by app /web, which held it before this app asked for it; the app already served keeps a port`,
    );
    expect(status().services.some((s) => s.appId === '/web')).toBe(true);
    await until('web.example.com', () => true);
  }, 60000);
});

describeWithHaproxy('chaos: task churn while a change keeps failing haproxy -c', (haproxy) => {
  test("a killed task leaves HAProxy through the runtime API during the failed change's backoff; the change applies once it can", async () => {
    const logs: LogLine[] = [];
    const dir = mkdtempSync(path.join(tmpdir(), 'mlb-chaos-churn-'));
    const counting = countingHaproxy(dir, haproxy.bin);
    const base = await freeLoopbackBlock(2);
    const live = await startLive({
      apps: [app('/web', base, {}, 4)],
      // A backoff that grows past a second: task churn must not wait for it.
      flags: ['--haproxy-bin', counting.bin, '--max-backoff', '60'],
      logger: memoryLogger(logs),
    });
    try {
      const status = () => live.service.status.status();
      // Servers in rotation: a removed one leaves it at once (maintenance), and is deleted a second
      // later (runtimeUpdate.ts: HAProxy 2.6 crashed deleting a server streams still pointed to).
      const servers = async () =>
        (await haproxyServers(live, `web_${base}`)).filter((s) => !s.inMaintenance && !s.draining).length;
      await waitFor('web served', () => status().services.length === 1, 30000);
      expect(await servers()).toBe(4);
      counting.failChecks(true);
      await live.sim.createApp(app('/new', base + 1)); // a new backend: a reload, refused by haproxy -c
      const failures = () => status().recentFailures.filter((f) => f.kind === 'apply-failed');
      await waitFor('the change to fail twice', () => failures().length >= 2, 30000);
      await live.sim.scale('/web', 3);
      let removedAt = 0;
      for (const deadline = Date.now() + 20000; removedAt === 0 && Date.now() < deadline;) {
        if ((await servers()) === 3)
          removedAt = Date.now(); // out of rotation
        else await new Promise((r) => setTimeout(r, 20));
      }
      expect(removedAt).toBeGreaterThan(0);
      // Removed while the failed change still waited for its retry (not when the wait ended).
      const last = failures()[0]!;
      expect(removedAt).toBeLessThan(Date.parse(last.at) + last.retryInMs!);
      expect(status().services.map((s) => s.appId)).toEqual(['/web']);
      counting.failChecks(false);
      await waitFor('the change to apply', () => status().services.length === 2, 90000);
      expect(await servers()).toBe(3);
      expect(await haproxyServers(live, `web_${base}`)).toHaveLength(3); // and the removed one deleted
    } finally {
      await live.stop();
      rmSync(dir, { recursive: true, force: true });
      if (process.env.MLB_TEST_LOGS) for (const l of logs) console.log(`${l.level} ${l.msg}`);
    }
  }, 150000);
});

describeWithHaproxy('chaos: HAProxy cannot start because of one app', () => {
  test('the first start fails on a held port: that app is left out, HAProxy starts with the others at once', async () => {
    const logs: LogLine[] = [];
    const base = await freeLoopbackBlock(3);
    const holder = createServer();
    await new Promise<void>((r) => holder.listen({ host: '127.0.0.1', port: base + 1, exclusive: true }, () => r()));
    const live = await startLive({
      apps: [app('/one', base), app('/held', base + 1), app('/two', base + 2)],
      logger: memoryLogger(logs),
    });
    try {
      const status = () => live.service.status.status();
      await waitFor('the first apply', () => status().services.length > 0, 30000);
      expect(
        status()
          .services.map((s) => s.backend)
          .sort(),
      ).toEqual([`one_${base}`, `two_${base + 2}`]);
      expect(status().leftOut.find((p) => p.appId === '/held')?.message).toMatch(
        /HAProxy cannot run backend held_\d+ .*HAProxy not started: 127\.0\.0\.1:\d+ of frontend held_\d+ is held by another process/,
      );
      expect(status().recentFailures).toEqual([]);
      for (const host of ['one.example.com', 'two.example.com'])
        expect((await httpGet(live.ports.http, host)).status).toBe(200);
    } finally {
      await live.stop();
      await new Promise<void>((r) => holder.close(() => r()));
      if (process.env.MLB_TEST_LOGS) for (const l of logs) console.log(`${l.level} ${l.msg}`);
    }
  }, 60000);
});
