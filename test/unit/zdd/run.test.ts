import type { JsonObject } from '../../../src/zdd/app';
import { exitStatus } from '../../../src/zdd/cli';
import { runZdd, type ZddFlags } from '../../../src/zdd/run';
import { FakeWorld, fixture } from './fakeWorld';

const FLAGS: ZddFlags = {
  dryRun: false,
  force: true,
  resume: false,
  completeCur: false,
  completePrev: false,
  stepDelay: 5,
  initialInstances: 1,
  linearIncrease: 0,
  maxWait: 300,
  newInstances: 0,
  preKillHook: undefined,
};
const shop = fixture('shop.json') as JsonObject;
const greenApps = (file = 'apps-green.json'): JsonObject[] => (fixture(file) as { apps: JsonObject[] }).apps;

/** A world running the green deploy of the fixture (3 tasks). */
function greenWorld(file?: string): FakeWorld {
  const w = new FakeWorld();
  for (const a of greenApps(file)) w.add(a);
  return w;
}

const instancesOf = (w: FakeWorld): Record<string, number> =>
  Object.fromEntries([...w.apps.entries()].map(([id, a]) => [id, a.instances]));

describe('zdd --dry-run prints the next colour and changes nothing (do_zdd)', () => {
  test.each(['apps-green.json', 'apps-green-marathon1.5.json'])('after %s', async (file) => {
    const w = greenWorld(file);
    const json = file === 'apps-green.json' ? shop : (fixture('shop-marathon1.5.json') as JsonObject);
    const outcome = await runZdd({ ...FLAGS, dryRun: true }, json, w);
    expect(outcome).toEqual({ kind: 'done', message: 'dry run: nothing deployed' });
    expect(exitStatus(outcome)).toBe(0);
    expect(w.calls).toEqual([]);
    const printed = JSON.parse(w.printed.join('')) as JsonObject;
    expect(printed).toMatchObject({ id: '/shop-blue', instances: 1, cpus: 0.2 });
    expect(printed['labels']).toMatchObject({
      HAPROXY_DEPLOYMENT_COLOUR: 'blue',
      HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '3',
      HAPROXY_0_PORT: '10200',
    });
    expect('cmd' in printed).toBe(false); // null members dropped (cleanup_json)
    expect(w.logs).toContain('Final app definition:');
  });

  test('--new-instances labels a hybrid deploy', async () => {
    const w = greenWorld();
    await runZdd({ ...FLAGS, dryRun: true, newInstances: 1 }, shop, w);
    expect((JSON.parse(w.printed.join('')) as { labels: JsonObject }).labels['HAPROXY_DEPLOYMENT_NEW_INSTANCES']).toBe(
      '1',
    );
  });

  test('--complete-cur without a hybrid deploy: exit 3', async () => {
    for (const flag of ['completeCur', 'completePrev'] as const) {
      const outcome = await runZdd({ ...FLAGS, [flag]: true }, shop, greenWorld());
      expect(outcome).toEqual({
        kind: 'failed',
        error: {
          kind: 'invalid-arg',
          message: 'Cannot use --complete-cur, --complete-prev flags when config is not hybrid',
        },
      });
      expect(exitStatus(outcome)).toBe(3);
    }
  });

  test('an app JSON without the deployment labels: exit 4, naming the label', async () => {
    const outcome = await runZdd(FLAGS, { id: 'shop', labels: { HAPROXY_DEPLOYMENT_GROUP: 'shop' } }, greenWorld());
    expect(outcome.kind === 'failed' && outcome.error.message).toBe(
      'shop: Please define the HAPROXY_DEPLOYMENT_ALT_PORT label',
    );
    expect(exitStatus(outcome)).toBe(4);
    expect(exitStatus(await runZdd(FLAGS, { labels: {} }, greenWorld()))).toBe(4);
  });
});

describe('a whole blue/green deploy against Marathon and marathon-lb (swap_zdd_apps)', () => {
  test('grows blue 1 → 2 → 3, kills only drained green tasks, then deletes green', async () => {
    const w = greenWorld();
    const outcome = await runZdd(FLAGS, shop, w);
    expect(outcome).toEqual({
      kind: 'done',
      message: 'deploy complete: /shop-blue serves 3 instance(s), /shop-green deleted',
    });
    expect(w.calls.map((c) => c.replace(/ shop-green\.task-\d+/g, ' <green task>'))).toEqual([
      'create /shop-blue 1',
      'kill <green task>',
      'scale /shop-blue 2',
      'kill <green task>',
      'scale /shop-blue 3',
      'delete /shop-green',
    ]);
    expect(w.killedUndrained).toEqual([]);
    expect(instancesOf(w)).toEqual({ '/shop-blue': 3 });
  });

  test('and back: a deploy from blue makes green on the original port', async () => {
    const w = greenWorld();
    await runZdd(FLAGS, shop, w);
    w.calls.length = 0;
    expect(exitStatus(await runZdd(FLAGS, shop, w))).toBe(0);
    expect(w.calls[0]).toBe('create /shop-green 1');
    expect(instancesOf(w)).toEqual({ '/shop-green': 3 });
    const green = w.apps.get('/shop-green')!.def as {
      container: { docker: { portMappings: { servicePort: number }[] } };
    };
    expect(green.container.docker.portMappings[0]!.servicePort).toBe(10200);
  });

  test('--linear-increase 1 grows one by one', async () => {
    const w = greenWorld();
    await runZdd({ ...FLAGS, linearIncrease: 1 }, shop, w);
    expect(w.calls.filter((c) => c.startsWith('scale'))).toEqual(['scale /shop-blue 2', 'scale /shop-blue 3']);
  });

  test('waits while Marathon deploys the new app and while a marathon-lb reloads', async () => {
    const w = greenWorld();
    w.deployingPolls = 2;
    w.pids = ['1 2 3', '1 2 3'];
    const start = w.clockMs;
    expect(exitStatus(await runZdd(FLAGS, shop, w))).toBe(0);
    // Said at info once, then at debug: a deployment that never ends was a silent wait (found by an audit).
    expect(w.logs.filter((l) => l.includes('Marathon deployment in progress'))).toEqual([
      "/shop-blue: Marathon deployment in progress, waiting 5 s (and until it ends: see the app's deployment in Marathon)",
      'DEBUG /shop-blue: Marathon deployment in progress, waiting 5 s',
    ]);
    expect(w.logs.filter((l) => l === 'Waiting for 3 pids on http://10.0.0.9:9090')).toHaveLength(2);
    expect(w.clockMs - start).toBeGreaterThanOrEqual(4 * 5000);
  });

  test('a task with an open session is not killed until it is idle; after --max-wait draining tasks are', async () => {
    const w = greenWorld();
    w.busy.add('shop-green.task-1');
    w.busy.add('shop-green.task-2');
    w.busy.add('shop-green.task-3');
    const outcome = await runZdd({ ...FLAGS, maxWait: 60, stepDelay: 10 }, shop, w);
    expect(exitStatus(outcome)).toBe(0);
    expect(w.logs).toContain(
      'Timed out waiting for tasks to fully drain, find any draining tasks and continue with deployment...',
    );
    // Killed only after timing out, and only tasks marathon-lb had taken out of rotation.
    expect(w.killedUndrained.length).toBeGreaterThan(0);
    expect(w.calls.at(-1)).toBe('delete /shop-green');
  });

  test('new tasks DOWN in HAProxy after --max-wait: nothing killed or deleted, exit 2 (zdd.py deleted the old app into an outage)', async () => {
    const w = greenWorld();
    w.downPrefix = 'shop-blue.';
    const outcome = await runZdd({ ...FLAGS, maxWait: 60, stepDelay: 10 }, shop, w);
    expect(outcome).toEqual({
      kind: 'failed',
      error: {
        kind: 'other',
        message:
          "fewer than 3 servers of /shop-blue's deployment group are UP in HAProxy after --max-wait (60 s): nothing of /shop-green was killed or deleted (do the new tasks fail HAProxy's health checks?): use --resume once they are UP, or --complete-prev to go back",
      },
    });
    expect(exitStatus(outcome)).toBe(2);
    expect(w.calls).toEqual(['create /shop-blue 1']);
    expect(instancesOf(w)).toEqual({ '/shop-green': 3, '/shop-blue': 1 });
  });

  test('no server of the group on marathon-lb after --max-wait: exit 5, not a new app grown at each wait', async () => {
    const w = greenWorld();
    w.groupUnseen = true;
    const outcome = await runZdd({ ...FLAGS, maxWait: 60, stepDelay: 10 }, shop, w);
    expect(outcome.kind === 'failed' && outcome.error.message).toBe(
      "marathon-lb http://10.0.0.9:9090 serves no server of /shop-blue's deployment group after --max-wait (60 s): nothing of /shop-green was killed or deleted (is -l the marathon-lb of the app's HAPROXY_GROUP?)",
    );
    expect(exitStatus(outcome)).toBe(5);
    expect(w.calls).toEqual(['create /shop-blue 1']);
  });

  test('the pre-kill hook gets the old app, the tasks and the new app as JSON before each kill; its failure stops the deploy (exit 2)', async () => {
    const w = greenWorld();
    const outcome = await runZdd({ ...FLAGS, preKillHook: '/usr/local/bin/check' }, shop, w);
    expect(exitStatus(outcome)).toBe(0);
    expect(w.hooks).toHaveLength(2);
    const [path, oldApp, tasks, newApp] = w.hooks[0]!;
    expect(path).toBe('/usr/local/bin/check');
    expect(JSON.parse(oldApp!)).toMatchObject({ id: '/shop-green', instances: 3 });
    expect(JSON.parse(tasks!)).toEqual([w.calls[1]!.slice('kill '.length)]);
    expect(JSON.parse(newApp!)).toMatchObject({ id: '/shop-blue', instances: 1 });
    expect(tasks).toMatch(/^\["shop-green\.task-\d+"\]$/);

    const failing = greenWorld();
    failing.hookFails = true;
    const stopped = await runZdd({ ...FLAGS, preKillHook: '/usr/local/bin/check' }, shop, failing);
    expect(stopped).toEqual({
      kind: 'failed',
      error: { kind: 'other', message: "pre-kill hook '/usr/local/bin/check' exited with status 1" },
    });
    expect(exitStatus(stopped)).toBe(2);
    expect(failing.calls).toEqual(['create /shop-blue 1']);
  });

  test('without --force every step is asked; a no stops with exit 1', async () => {
    const declinedAtStart = greenWorld();
    const o1 = await runZdd({ ...FLAGS, force: false }, shop, declinedAtStart);
    expect(o1.kind).toBe('declined');
    expect(exitStatus(o1)).toBe(1);
    expect(declinedAtStart.calls).toEqual(['ask Continue with deployment?']);

    const declinedKill = greenWorld();
    declinedKill.answers = [true, false];
    const o2 = await runZdd({ ...FLAGS, force: false }, shop, declinedKill);
    expect(exitStatus(o2)).toBe(1);
    expect(declinedKill.calls).toEqual(['ask Continue with deployment?', 'create /shop-blue 1', 'ask Continue?']);

    const yes = greenWorld();
    yes.answers = [true, true, true, true];
    expect(exitStatus(await runZdd({ ...FLAGS, force: false }, shop, yes))).toBe(0);
    expect(yes.calls.filter((c) => c.startsWith('ask'))).toHaveLength(4);
  });

  test('marathon-lb unreadable: exit 5; Marathon losing the old app: exit 6', async () => {
    const w = greenWorld();
    w.lbDown = true;
    const o = await runZdd(FLAGS, shop, w);
    expect(o.kind === 'failed' && o.error.message).toMatch(
      /^Error while querying Marathon-LB http:\/\/10\.0\.0\.9:9090: connect ECONNREFUSED/,
    );
    expect(exitStatus(o)).toBe(5);

    // Found by an attack: a page of garbage (a proxy's error page with status 200) was "0 listeners",
    // and the new colour grew at each --max-wait without a check.
    const garbage = greenWorld();
    garbage.haproxyStats = () => Promise.resolve('this is not csv\n<html>502</html>\n');
    const g = await runZdd(FLAGS, shop, garbage);
    expect(g.kind === 'failed' && g.error.message).toBe(
      // The URL once (an audit: it was said twice).
      'Error while querying Marathon-LB http://10.0.0.9:9090: not HAProxy\'s stats CSV (its first line: "this is not csv")',
    );
    expect(exitStatus(g)).toBe(5);
    expect(garbage.calls.filter((c) => /^(scale|kill)/.test(c))).toEqual([]);

    const gone = greenWorld();
    gone.apps.delete('/shop-green');
    gone.add({ ...greenApps()[0]!, id: '/shop-green', instances: 3 });
    const realGet = gone.getApp.bind(gone);
    gone.getApp = async (id) => (id === '/shop-green' ? realGet('/nope') : realGet(id));
    expect(exitStatus(await runZdd(FLAGS, shop, gone))).toBe(6);
  });
});

describe('interrupted and hybrid deploys (safe_resume_deploy)', () => {
  /** A deploy stopped after its first kill: blue 1, green 2. */
  async function interrupted(): Promise<FakeWorld> {
    const w = greenWorld();
    w.failScaleAt = 1;
    const o = await runZdd(FLAGS, shop, w);
    expect(exitStatus(o)).toBe(9);
    expect(instancesOf(w)).toEqual({ '/shop-green': 2, '/shop-blue': 1 });
    w.calls.length = 0;
    return w;
  }

  test('a second run without --resume refuses (exit 2) and changes nothing', async () => {
    const w = await interrupted();
    const o = await runZdd(FLAGS, shop, w);
    expect(o.kind === 'failed' && o.error.message).toMatch(/^There appears to be an existing deployment in progress/);
    expect(exitStatus(o)).toBe(2);
    expect(w.calls).toEqual([]);
  });

  test('--resume finishes it: blue at 3, green deleted', async () => {
    const w = await interrupted();
    expect(exitStatus(await runZdd({ ...FLAGS, resume: true }, shop, w))).toBe(0);
    expect(w.logs).toContain('Found previous deployment, resuming');
    expect(instancesOf(w)).toEqual({ '/shop-blue': 3 });
    expect(w.killedUndrained).toEqual([]);
  });

  /** --new-instances 1: blue 1 beside green 2, both kept. */
  async function hybrid(): Promise<FakeWorld> {
    const w = greenWorld();
    const o = await runZdd({ ...FLAGS, newInstances: 1 }, shop, w);
    expect(o).toEqual({
      kind: 'done',
      message: 'hybrid deploy in place: /shop-blue 1 instance(s), /shop-green 2 instance(s)',
    });
    expect(w.logs).toContain('Not deleting old app, as its hybrid configuration');
    w.calls.length = 0;
    return w;
  }

  test('--complete-cur moves every instance to the newest colour', async () => {
    const w = await hybrid();
    const o = await runZdd({ ...FLAGS, completeCur: true, maxWait: 30 }, shop, w);
    expect(exitStatus(o)).toBe(0);
    expect(w.logs).toEqual(
      expect.arrayContaining([
        'Converting all instances to current config',
        'Current config color is blue',
        'Considering green color as existing app and blue color as new app',
      ]),
    );
    expect(instancesOf(w)).toEqual({ '/shop-blue': 3 });
    expect(w.calls.at(-1)).toBe('delete /shop-green');
    expect(w.killedUndrained).toEqual([]);
  });

  test('--complete-prev moves every instance back to the previous colour', async () => {
    const w = await hybrid();
    const o = await runZdd({ ...FLAGS, completePrev: true, maxWait: 30 }, shop, w);
    expect(exitStatus(o)).toBe(0);
    expect(w.logs).toEqual(
      expect.arrayContaining([
        'Converting all instances to previous config',
        'Previous config color is green',
        'Considering blue color as existing app and green color as new app',
      ]),
    );
    expect(instancesOf(w)).toEqual({ '/shop-green': 3 });
    expect(w.calls.at(-1)).toBe('delete /shop-blue');
    expect(w.killedUndrained).toEqual([]);
  });
});
