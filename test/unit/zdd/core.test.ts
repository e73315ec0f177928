import { parseApp, type JsonObject, type ZddApp } from '../../../src/zdd/app';
import { isHybrid, needsScaleUp, nextInstances, readyToDeleteOldApp } from '../../../src/zdd/scaling';
import {
  appListeners,
  drainedTaskIds,
  drainingTaskIds,
  parseHaproxyStats,
  serverNameOf,
  waitingForListeners,
  waitingForUpListeners,
} from '../../../src/zdd/stats';
import { isoLocal, lastTwoDeploys, nextColour, nextPort, prepareDeploy, sortDeploys } from '../../../src/zdd/prepare';
import { pyJsonDumps } from '../../../src/zdd/pyjson';
import { fixture, fixtureText } from './fakeWorld';

const app = (o: JsonObject): ZddApp => {
  const p = parseApp({ id: '/x', instances: 0, ...o }, 'test');
  if (!p.ok) throw new Error(p.error.message);
  return p.value;
};
const flags = { linearIncrease: 0, completeCur: false, completePrev: false };
const APPS_CASES = ['apps-green.json', 'apps-green-marathon1.5.json'];
const firstApp = (file: string): ZddApp => app((fixture(file) as { apps: JsonObject[] }).apps[0]!);
const ips = new Map([['10.0.7.31', '10.0.7.31']]);

describe('scaling the new colour (scale_new_app_instances)', () => {
  test('grows by half of its instances while it is smaller than the old app', () => {
    const newApp = app({ instances: 10, labels: { HAPROXY_DEPLOYMENT_TARGET_INSTANCES: 30 } });
    expect(nextInstances(flags, newApp, app({ instances: 30 }))).toBe(15);
  });
  test('goes straight to its target once it meets or passes the old app', () => {
    const newApp = app({ instances: 10, labels: { HAPROXY_DEPLOYMENT_TARGET_INSTANCES: 30 } });
    expect(nextInstances(flags, newApp, app({ instances: 8 }))).toBe(30);
  });
  test('a hybrid deploy stops at HAPROXY_DEPLOYMENT_NEW_INSTANCES', () => {
    const newApp = app({
      instances: 10,
      labels: { HAPROXY_DEPLOYMENT_NEW_INSTANCES: 15, HAPROXY_DEPLOYMENT_TARGET_INSTANCES: 30 },
    });
    expect(isHybrid(flags, newApp)).toBe(true);
    expect(nextInstances(flags, newApp, app({ instances: 20 }))).toBe(15);
    // --complete-cur / --complete-prev: the same app is no longer hybrid and goes to its target.
    expect(isHybrid({ ...flags, completeCur: true }, newApp)).toBe(false);
    expect(nextInstances({ ...flags, completePrev: true }, newApp, app({ instances: 8 }))).toBe(30);
  });
  test('--linear-increase adds that many per step, never beyond the target', () => {
    const newApp = app({ instances: 10, labels: { HAPROXY_DEPLOYMENT_TARGET_INSTANCES: 12 } });
    expect(nextInstances({ ...flags, linearIncrease: 1 }, newApp, app({ instances: 5 }))).toBe(11);
    expect(nextInstances({ ...flags, linearIncrease: 5 }, newApp, app({ instances: 5 }))).toBe(12);
  });
  test('from 1 instance: 1 → 2 → 3 (target) beside an old app of 3', () => {
    const at = (n: number): ZddApp => app({ instances: n, labels: { HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '3' } });
    expect(nextInstances(flags, at(1), app({ instances: 3 }))).toBe(2);
    expect(nextInstances(flags, at(2), app({ instances: 2 }))).toBe(3);
    expect(needsScaleUp(flags, at(3))).toBe(false);
  });
  test('the old app may go when the new one is at target and every old task drains; a hybrid keeps both shares', () => {
    const newApp = app({ instances: 3, labels: { HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '3' } });
    expect(readyToDeleteOldApp(flags, newApp, app({ instances: 2 }), ['a', 'b'])).toBe(true);
    expect(readyToDeleteOldApp(flags, newApp, app({ instances: 2 }), ['a'])).toBe(false);
    const hybrid = app({
      instances: 1,
      labels: { HAPROXY_DEPLOYMENT_NEW_INSTANCES: '1', HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '3' },
    });
    const old = (n: number): ZddApp => app({ instances: n, labels: { HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '3' } });
    expect(readyToDeleteOldApp(flags, hybrid, old(2), [])).toBe(true);
    expect(readyToDeleteOldApp(flags, hybrid, old(3), [])).toBe(false);
  });
});

describe("marathon-lb's stats (parse_haproxy_stats and the drain checks)", () => {
  const listeners = parseHaproxyStats(fixtureText('haproxy-stats.csv'));

  test("refuses text that is not HAProxy's stats CSV, as zdd.py's parse did (found by an attack)", () => {
    const header =
      '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,\n';
    expect(() => parseHaproxyStats('this is not csv\n...')).toThrow(
      /^not HAProxy's stats CSV \(its first line: "this is not csv"\)$/,
    );
    expect(() => parseHaproxyStats('')).toThrow(/not HAProxy's stats CSV/);
    expect(() => parseHaproxyStats('# a,b,c\n1,2,3\n')).toThrow(/its first line/);
    expect(() => parseHaproxyStats(`${header}web_80,10_0_0_1_31000,abc,0,xyz,0,,,,,,,,,,,,MAINT,\n`)).toThrow(
      /a row: "web_80/,
    );
    expect(() => parseHaproxyStats(`${header}web_80,10_0_0_1_31000,0\n`)).toThrow(/a row/);
    expect(parseHaproxyStats(`${header}web_80,10_0_0_1_31000,0,0,1,0,,,,,,,,,,,,MAINT,\n`)).toEqual([
      { pxname: 'web_80', svname: '10_0_0_1_31000', qcur: '0', scur: '1', status: 'MAINT' },
    ]);
  });

  test('an app of a Marathon answer states its instances (found by an attack: none was 0 instances)', () => {
    expect(parseApp({ id: '/zzz' }, '/v2/apps/zzz')).toEqual({
      ok: false,
      error: { kind: 'marathon-endpoint', message: '/v2/apps/zzz: app /zzz has no integer "instances"' },
    });
    expect(parseApp({ id: '/zzz', instances: -1 }, 'x').ok).toBe(false);
  });

  test('parses every server row of concatenated CSVs, skipping header lines', () => {
    expect(listeners).toHaveLength(13);
    expect(listeners[0]).toEqual({ pxname: 'stats', svname: 'FRONTEND', qcur: '', scur: '2', status: 'OPEN' });
    expect(listeners[2]).toMatchObject({ pxname: 'shop_10200', svname: '10_0_7_31_17001', status: 'MAINT' });
    expect(listeners[12]).toMatchObject({ pxname: 'shop_10200', svname: '10_0_7_31_17100', status: 'UP' });
  });

  test("the app's listeners are its deployment backend's servers only", () => {
    const own = appListeners(app({ labels: { HAPROXY_DEPLOYMENT_GROUP: 'shop', HAPROXY_0_PORT: '10200' } }), listeners);
    expect(own.map((l) => l.svname)).toEqual([
      '10_0_7_31_17001',
      '10_0_7_31_17002',
      '10_0_7_31_17003',
      '10_0_7_31_17100',
      '10_0_7_31_17001',
      '10_0_7_31_17002',
      '10_0_7_31_17003',
      '10_0_7_31_17100',
    ]);
    const other = appListeners(
      app({ labels: { HAPROXY_DEPLOYMENT_GROUP: 'other', HAPROXY_0_PORT: '9000' } }),
      listeners,
    );
    expect(other).toEqual([expect.objectContaining({ pxname: 'other_9000', svname: '10_0_7_40_18000' })]);
  });

  test.each(APPS_CASES)('drained tasks: MAINT and idle on every marathon-lb (%s)', (file) => {
    const old = firstApp(file);
    const ids = drainedTaskIds(old, listeners, 2, ips);
    expect(ids).toContain(old.tasks[0]!.id); // MAINT on both, no session
    expect(ids).not.toContain(old.tasks[1]!.id); // UP on one, MAINT on the other
    expect(ids).not.toContain(old.tasks[2]!.id); // MAINT on both, a session on one and a queued request on the other
  });

  test.each(APPS_CASES)('draining tasks: MAINT on every marathon-lb, busy or not (%s)', (file) => {
    const old = firstApp(file);
    const ids = drainingTaskIds(old, listeners, 2, ips);
    expect(ids).toEqual([old.tasks[0]!.id, old.tasks[2]!.id]);
  });

  test.each(APPS_CASES)('server names as marathon-lb gives them (%s)', (file) => {
    const old = firstApp(file);
    expect(old.tasks.map((t) => serverNameOf(old, t, ips))).toEqual([
      '10_0_7_31_17001',
      '10_0_7_31_17002',
      '10_0_7_31_17003',
    ]);
  });

  test('a host name that resolves elsewhere gives host_ip_port; IP-per-task uses the task IP', () => {
    const hostNamed = app({ tasks: [{ id: 't1', host: 'agent-1.dc', ports: [31000] }] });
    expect(serverNameOf(hostNamed, hostNamed.tasks[0]!, new Map([['agent-1.dc', '10.1.2.3']]))).toBe(
      'agent-1_dc_10_1_2_3_31000',
    );
    expect(serverNameOf(hostNamed, hostNamed.tasks[0]!, new Map())).toBeUndefined(); // unresolved: never counted
    // IP-per-task: the task IP and the port the model routes to (discovery or the container port);
    // its tasks have no host ports (with task.ports, no server matched and a deploy waited forever).
    const ipPerTask = app({
      ipAddress: { networkName: 'dcos', discovery: { ports: [{ number: 8080 }] } },
      tasks: [{ id: 't2', host: '10.0.0.5', ports: [], ipAddresses: [{ ipAddress: '9.0.0.7' }] }],
    });
    expect(serverNameOf(ipPerTask, ipPerTask.tasks[0]!, ips)).toBe('10_0_0_5_9_0_0_7_8080');
    const mapped = app({
      networks: [{ mode: 'container' }],
      container: { portMappings: [{ containerPort: 8080, servicePort: 36204 }] },
      tasks: [{ id: 't3', host: '10.0.0.5', ports: [], ipAddresses: [{ ipAddress: '9.0.0.8' }] }],
    });
    expect(serverNameOf(mapped, mapped.tasks[0]!, ips)).toBe('10_0_0_5_9_0_0_8_8080');
  });

  test('waits until both colours are listed on every marathon-lb and the target is UP', () => {
    const own = appListeners(app({ labels: { HAPROXY_DEPLOYMENT_GROUP: 'shop', HAPROXY_0_PORT: '10200' } }), listeners);
    expect(waitingForListeners(app({ instances: 1 }), app({ instances: 3 }), own, 2)).toBe(false);
    expect(waitingForListeners(app({ instances: 2 }), app({ instances: 3 }), own, 2)).toBe(true);
    // 3 UP rows over 2 marathon-lbs (17100 on both, 17002 on one) count as 1.5, like zdd.py's division.
    expect(waitingForUpListeners(2, own, 2)).toBe(true);
    expect(waitingForUpListeners(1, own, 2)).toBe(false);
  });
});

describe('preparing the next colour (prepare_deploy)', () => {
  const now = new Date(2026, 11, 1, 12, 30, 15, 250);
  const jsonCases: [string, string][] = [
    ['shop.json', 'apps-green.json'],
    ['shop-marathon1.5.json', 'apps-green-marathon1.5.json'],
  ];

  test.each(jsonCases)('%s after a green deploy: blue, on the alternate port, 1 instance, target 3', (json, apps) => {
    const r = prepareDeploy(
      { initialInstances: 1, newInstances: 0 },
      [firstApp(apps)],
      fixture(json) as JsonObject,
      now,
    );
    if (!r.ok) throw new Error(r.error.message);
    const out = JSON.parse(pyJsonDumps(r.value, { indent: 2, sortKeys: true })) as JsonObject;
    expect(out['id']).toBe('/shop-blue');
    expect(out['instances']).toBe(1);
    expect(out['labels']).toEqual({
      HAPROXY_0_PORT: '10200',
      HAPROXY_APP_ID: 'shop',
      HAPROXY_DEPLOYMENT_ALT_PORT: '10201',
      HAPROXY_DEPLOYMENT_COLOUR: 'blue',
      HAPROXY_DEPLOYMENT_GROUP: 'shop',
      HAPROXY_DEPLOYMENT_NEW_INSTANCES: '0',
      HAPROXY_DEPLOYMENT_STARTED_AT: '2026-12-01T12:30:15.250000',
      HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '3',
      HAPROXY_GROUP: 'external',
    });
    const mappings =
      json === 'shop.json'
        ? (out['container'] as { docker: { portMappings: JsonObject[] } }).docker.portMappings
        : (out['container'] as { portMappings: JsonObject[] }).portMappings;
    expect(mappings).toEqual([{ containerPort: 8000, hostPort: 0, servicePort: 10201 }]);
    // Everything else of the definition is kept (nulls dropped by the caller, as cleanup_json).
    expect(out['acceptedResourceRoles']).toEqual(['*', 'slave_public']);
    expect(out['mem']).toBe(128);
  });

  // An audit: a servicePort "xyz" was reported as a bad HAPROXY_DEPLOYMENT_ALT_PORT or HAPROXY_0_PORT.
  test('a first deploy whose service port is no port number names that field', () => {
    const app = fixture('shop-marathon1.5.json') as JsonObject;
    const container = app['container'] as JsonObject;
    const bad = {
      ...app,
      container: { ...container, portMappings: [{ containerPort: 8000, hostPort: 0, servicePort: 'xyz' }] },
    };
    const r = prepareDeploy({ initialInstances: 1, newInstances: 0 }, [], bad, now);
    expect(!r.ok && r.error.message).toBe('shop: the first port mapping\'s servicePort "xyz" is not a port number');
  });

  // An audit: "three" was printed as NaN and posted as null, and the app created with 1 instance.
  test.each([
    ['"three"', 'three'],
    ['Infinity (1e400)', Number.POSITIVE_INFINITY],
    ['2.5', 2.5],
    ['-1', -1],
  ])('a first deploy asking for %s instances is refused (exit 4), nothing posted', (_name, instances) => {
    const r = prepareDeploy(
      { initialInstances: 1, newInstances: 0 },
      [],
      { ...(fixture('shop.json') as JsonObject), instances },
      now,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/^shop: "instances" must be a whole number of instances, not /);
  });

  test('a hybrid deploy labels its share; --initial-instances never exceeds it or the old app', () => {
    const r = prepareDeploy(
      { initialInstances: 5, newInstances: 2 },
      [firstApp('apps-green.json')],
      fixture('shop.json') as JsonObject,
      now,
    );
    expect(r.ok && r.value['instances']).toBe(2);
    expect(r.ok && (r.value['labels'] as JsonObject)['HAPROXY_DEPLOYMENT_NEW_INSTANCES']).toBe('2');
    const big = prepareDeploy(
      { initialInstances: 1, newInstances: 9 },
      [firstApp('apps-green.json')],
      fixture('shop.json') as JsonObject,
      now,
    );
    expect(big.ok && (big.value['labels'] as JsonObject)['HAPROXY_DEPLOYMENT_NEW_INSTANCES']).toBe('3');
    const all = prepareDeploy(
      { initialInstances: 7, newInstances: 0 },
      [firstApp('apps-green.json')],
      fixture('shop.json') as JsonObject,
      now,
    );
    expect(all.ok && all.value['instances']).toBe(3);
  });

  test('the first deploy is blue on the app own port with its own instances', () => {
    const r = prepareDeploy({ initialInstances: 1, newInstances: 0 }, [], fixture('shop.json') as JsonObject, now);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value['id']).toBe('/shop-blue');
    expect(r.value['instances']).toBe(4);
    expect(r.value['labels']).toMatchObject({
      HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '4',
      HAPROXY_DEPLOYMENT_NEW_INSTANCES: '0',
      HAPROXY_0_PORT: '10200',
    });
  });

  test('colours and ports alternate; deploys sort by HAPROXY_DEPLOYMENT_STARTED_AT', () => {
    const blue = app({
      id: '/a-blue',
      ports: [10201],
      labels: {
        HAPROXY_DEPLOYMENT_COLOUR: 'blue',
        HAPROXY_DEPLOYMENT_ALT_PORT: '10201',
        HAPROXY_0_PORT: '10200',
        HAPROXY_DEPLOYMENT_STARTED_AT: '2026-01-02T00:00:00.000000',
      },
    });
    const green = app({
      id: '/a-green',
      ports: [10200],
      labels: {
        HAPROXY_DEPLOYMENT_COLOUR: 'green',
        HAPROXY_DEPLOYMENT_ALT_PORT: '10201',
        HAPROXY_0_PORT: '10200',
        HAPROXY_DEPLOYMENT_STARTED_AT: '2026-01-01T00:00:00.000000',
      },
    });
    expect(nextColour(blue)).toBe('green');
    expect(nextColour(green)).toBe('blue');
    expect(nextColour(app({}))).toBe('blue');
    expect(nextPort(blue)).toBe(10200); // runs on the alternate port: back to HAPROXY_0_PORT
    expect(nextPort(green)).toBe(10201);
    // Marathon 1.5+ answers may lack the legacy `ports`: the deploy's own service port tells.
    const blue15 = app({
      id: '/a-blue',
      container: { portMappings: [{ containerPort: 80, servicePort: 10201 }] },
      labels: { HAPROXY_DEPLOYMENT_ALT_PORT: '10201', HAPROXY_0_PORT: '10200' },
    });
    expect(nextPort(blue15)).toBe(10200);
    // Labels read as zdd.py's int() reads them: digit groups, not parseInt's prefix.
    const grouped = app({ id: '/a-green', ports: [1], labels: { HAPROXY_DEPLOYMENT_ALT_PORT: ' 10_201 ' } });
    expect(nextPort(grouped)).toBe(10201);
    expect(
      nextPort(app({ id: '/a-green', ports: [1], labels: { HAPROXY_DEPLOYMENT_ALT_PORT: '10201abc' } })),
    ).toBeNaN();
    expect(sortDeploys([blue, green]).map((a) => a.id)).toEqual(['/a-green', '/a-blue']);
    expect(lastTwoDeploys([green, blue])?.map((a) => a.id)).toEqual(['/a-blue', '/a-green']);
  });

  test('STARTED_AT is Python isoformat() of local time', () => {
    expect(isoLocal(new Date(2016, 1, 1, 15, 51, 38, 184))).toBe('2016-02-01T15:51:38.184000');
  });
});

describe("the pre-kill hook's arguments are Python json.dumps text", () => {
  test('as zdd.py passes them', () => {
    expect(pyJsonDumps({ id: 'oldApp' })).toBe('{"id": "oldApp"}');
    expect(pyJsonDumps(['task1', 'task2'])).toBe('["task1", "task2"]');
    expect(pyJsonDumps({ a: [1, { b: null }], c: 'é' })).toBe('{"a": [1, {"b": null}], "c": "\\u00e9"}');
    expect(pyJsonDumps({ b: 1, a: [] }, { indent: 2, sortKeys: true })).toBe('{\n  "a": [],\n  "b": 1\n}');
  });
});
