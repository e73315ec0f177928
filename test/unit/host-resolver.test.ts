import { HostResolver, resolveOnce, type Deadline, type Lookup } from '../../src/marathon/hostResolver';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { hostNamesOf, resolverFrom, unresolvedTaskHosts } from '../../src/marathon/resolveHosts';
import { LOOKUP_PENDING } from '../../src/model/networking';
import { parseAppsJson } from '../../src/model/appsJson';
import { toModel } from '../../src/model/services';
import { parseArgs } from '../../src/cli/args';
import { runDry } from '../../src/dry';
import { drySettings } from '../../src/wiring/parts';
import { CLI } from '../support/paths';
import { tempDir } from '../support/render';

const body = (...hosts: string[]) => ({
  apps: [{ id: '/a', tasks: hosts.map((host, i) => ({ id: `a.${i}`, host })) }],
});

/** A name server under test control: answers, refusals and names that hang until released. */
function nameServer(addresses: Record<string, string>) {
  const calls: string[] = [];
  const stuck = new Map<string, (address: string) => void>();
  const lookup: Lookup = (host) => {
    calls.push(host);
    if (host.startsWith('stuck')) return new Promise((resolve) => stuck.set(host, resolve));
    const a = addresses[host];
    return a === undefined ? Promise.reject(new Error('ENOTFOUND')) : Promise.resolve(a);
  };
  return { lookup, calls, release: (host: string, address: string) => stuck.get(host)?.(address) };
}

/** A deadline the test reaches by hand. */
function manualDeadline() {
  let reach = (): void => undefined;
  const deadline: Deadline = () => ({ reached: new Promise<void>((r) => (reach = r)), cancel: () => undefined });
  return { deadline, reach: () => reach() };
}

describe('HostResolver', () => {
  test('resolves names, leaves IP literals alone and drops names that do not exist', async () => {
    const ns = nameServer({ 'agent-1': '10.0.0.1' });
    const r = new HostResolver({ lookup: ns.lookup, deadline: manualDeadline().deadline });
    expect(await r.resolve(body('agent-1', '10.0.0.9', 'gone'), 1000)).toEqual(new Map([['agent-1', '10.0.0.1']]));
    expect(ns.calls.sort()).toEqual(['agent-1', 'gone']);
  });

  test('names the task hosts without an IPv4 address (their tasks are left out), not BIND_ADDR names', async () => {
    const ns = nameServer({ 'agent-1': '10.0.0.1' });
    const r = new HostResolver({ lookup: ns.lookup, deadline: manualDeadline().deadline });
    const apps = {
      apps: [
        ...body('agent-1', 'gone-2', '10.0.0.9', 'gone-1', 'fd00::1').apps,
        { id: '/b', labels: { HAPROXY_0_BIND_ADDR: 'no-such-bind' }, tasks: [{ id: 'b.0', host: 'gone-1' }] },
      ],
    };
    const hosts = await r.resolve(apps, 1000);
    // An IPv6 agent is never looked up: marathon-lb dials agents by IPv4 (gethostbyname).
    expect(ns.calls.sort()).toEqual(['agent-1', 'gone-1', 'gone-2', 'no-such-bind']);
    expect(r.unresolvedTaskHosts(apps, hosts)).toEqual(['fd00::1', 'gone-1', 'gone-2']);
    // The same answer from the body alone (--dry); once every name has an address, the IPv6 one stays.
    expect(unresolvedTaskHosts(apps, hosts)).toEqual(['fd00::1', 'gone-1', 'gone-2']);
    const all = new Map([...hosts, ['gone-1', '10.0.0.3'], ['gone-2', '10.0.0.4']]);
    expect(r.unresolvedTaskHosts(apps, all)).toEqual(['fd00::1']);
    expect(unresolvedTaskHosts({ apps: 'not a list' }, hosts)).toEqual([]);
  });

  test('a name that never answers does not hold the snapshot past the deadline; its late answer is cached', async () => {
    const ns = nameServer({ 'agent-1': '10.0.0.1' });
    const d = manualDeadline();
    const r = new HostResolver({ lookup: ns.lookup, deadline: d.deadline });
    const first = r.resolve(body('agent-1', 'stuck-1'), 1000);
    await new Promise((res) => setImmediate(res));
    d.reach();
    expect(await first).toEqual(new Map([['agent-1', '10.0.0.1']]));
    ns.release('stuck-1', '10.0.0.7'); // answered late: known from now on
    await new Promise((res) => setImmediate(res));
    // Both are cached now: the next snapshot needs no lookup and no deadline.
    expect(await r.resolve(body('agent-1', 'stuck-1'), 1000)).toEqual(
      new Map([
        ['agent-1', '10.0.0.1'],
        ['stuck-1', '10.0.0.7'],
      ]),
    );
    expect(ns.calls.sort()).toEqual(['agent-1', 'stuck-1']);
  });

  test('one lookup per stuck name at a time, whatever the number of snapshots', async () => {
    const ns = nameServer({});
    const d = manualDeadline();
    const r = new HostResolver({ lookup: ns.lookup, deadline: d.deadline });
    for (let i = 0; i < 5; i++) {
      const p = r.resolve(body('stuck-a', 'stuck-b'), 1000);
      await new Promise((res) => setImmediate(res));
      d.reach();
      expect(await p).toEqual(new Map());
    }
    expect(ns.calls.sort()).toEqual(['stuck-a', 'stuck-b']);
  });

  test('like marathon-lb resolve_ip: a known name is not looked up again, so a DNS outage drops no task', async () => {
    const addresses: Record<string, string> = { 'agent-1': '10.0.0.1', 'agent-2': '10.0.0.2' };
    const ns = nameServer(addresses);
    const r = new HostResolver({ lookup: ns.lookup, deadline: manualDeadline().deadline });
    const both = new Map([
      ['agent-1', '10.0.0.1'],
      ['agent-2', '10.0.0.2'],
    ]);
    expect(await r.resolve(body('agent-1', 'agent-2'), 1000)).toEqual(both);
    delete addresses['agent-1'];
    delete addresses['agent-2']; // the name server forgets everything
    expect(await r.resolve(body('agent-1', 'agent-2'), 1000)).toEqual(both);
    expect(await r.resolve(body('agent-2'), 1000)).toEqual(new Map([['agent-2', '10.0.0.2']]));
    expect(await r.resolve(body('agent-1', 'agent-2'), 1000)).toEqual(both); // absent from one snapshot: still known
    expect(ns.calls.sort()).toEqual(['agent-1', 'agent-2']);
  });

  test('a failed lookup caches nothing: the name is tried again at the next snapshot', async () => {
    const addresses: Record<string, string> = {};
    const ns = nameServer(addresses);
    const r = new HostResolver({ lookup: ns.lookup, deadline: manualDeadline().deadline });
    expect(await r.resolve(body('new-agent'), 1000)).toEqual(new Map());
    addresses['new-agent'] = '10.0.0.5';
    expect(await r.resolve(body('new-agent'), 1000)).toEqual(new Map([['new-agent', '10.0.0.5']]));
    expect(ns.calls).toEqual(['new-agent', 'new-agent']);
  });

  test('the cache holds --lru-cache-capacity names and evicts the least recently used', async () => {
    const ns = nameServer({ a: '10.0.0.1', b: '10.0.0.2', c: '10.0.0.3' });
    const r = new HostResolver({ capacity: 2, lookup: ns.lookup, deadline: manualDeadline().deadline });
    await r.resolve(body('a'), 1000);
    await r.resolve(body('b'), 1000);
    await r.resolve(body('a'), 1000); // a is now the most recently used
    await r.resolve(body('c'), 1000); // evicts b
    ns.calls.length = 0;
    expect(await r.resolve(body('a', 'c'), 1000)).toEqual(
      new Map([
        ['a', '10.0.0.1'],
        ['c', '10.0.0.3'],
      ]),
    );
    expect(ns.calls).toEqual([]);
    expect(await r.resolve(body('b'), 1000)).toEqual(new Map([['b', '10.0.0.2']]));
    expect(ns.calls).toEqual(['b']);
  });

  test('a snapshot with more names than the capacity still gets every address it looked up', async () => {
    const ns = nameServer({ a: '10.0.0.1', b: '10.0.0.2', c: '10.0.0.3' });
    const r = new HostResolver({ capacity: 1, lookup: ns.lookup, deadline: manualDeadline().deadline });
    expect(await r.resolve(body('a', 'b', 'c'), 1000)).toEqual(
      new Map([
        ['a', '10.0.0.1'],
        ['b', '10.0.0.2'],
        ['c', '10.0.0.3'],
      ]),
    );
  });
});

describe("names in labels (app owners', not Marathon's)", () => {
  const labelled = (labels: Record<string, string>, ...hosts: string[]) => ({
    apps: [...body(...hosts).apps, { id: '/owner', labels, tasks: [] }],
  });
  /** Deadlines reached by hand, with the waits they were made for. */
  function deadlines() {
    const made: { ms: number; reach: () => void }[] = [];
    const deadline: Deadline = (ms) => {
      let reach = (): void => undefined;
      const reached = new Promise<void>((r) => (reach = r));
      made.push({ ms, reach: () => reach() });
      return { reached, cancel: () => undefined };
    };
    return { deadline, made };
  }

  test('are waited for 2 s at most, task hosts the whole timeout; one not answered is not asked again for 30 s', async () => {
    const ns = nameServer({ 'agent-1': '10.0.0.1' });
    const d = deadlines();
    let now = 0;
    const r = new HostResolver({ lookup: ns.lookup, deadline: d.deadline, now: () => now });
    const snapshot = labelled({ HAPROXY_0_BIND_ADDR: 'stuck-bind' }, 'agent-1', 'stuck-agent');
    const first = r.resolve(snapshot, 46000);
    await new Promise((res) => setImmediate(res));
    expect(d.made.map((x) => x.ms).sort((a, b) => a - b)).toEqual([2000, 46000]);
    for (const x of d.made) x.reach();
    // The label's name is pending (refused until it answers); the task host is just absent.
    expect(await first).toEqual(
      new Map([
        ['agent-1', '10.0.0.1'],
        ['stuck-bind', LOOKUP_PENDING],
      ]),
    );
    // 29 s later: the label's name is not waited for (no deadline for it), the stuck task host is.
    now = 29_000;
    d.made.length = 0;
    const second = r.resolve(snapshot, 46000);
    await new Promise((res) => setImmediate(res));
    expect(d.made.map((x) => x.ms)).toEqual([46000]);
    for (const x of d.made) x.reach();
    await second;
    // From 30 s on it is asked again (the lookup still under way is joined, not started twice).
    now = 30_000;
    d.made.length = 0;
    const third = r.resolve(snapshot, 46000);
    await new Promise((res) => setImmediate(res));
    expect(d.made.map((x) => x.ms).sort((a, b) => a - b)).toEqual([2000, 46000]);
    ns.release('stuck-bind', '10.0.0.8');
    for (const x of d.made) x.reach();
    expect((await third).get('stuck-bind')).toBe('10.0.0.8');
    expect(ns.calls.filter((h) => h === 'stuck-bind')).toHaveLength(1);
  });

  test('a name answered after the snapshot went without it calls onLateAnswer, once', async () => {
    const ns = nameServer({ 'agent-1': '10.0.0.1' });
    const d = deadlines();
    let late = 0;
    const r = new HostResolver({ lookup: ns.lookup, deadline: d.deadline, onLateAnswer: () => late++ });
    const p = r.resolve(labelled({ HAPROXY_0_BIND_ADDR: 'stuck-bind' }, 'agent-1', 'stuck-agent'), 46000);
    await new Promise((res) => setImmediate(res));
    for (const x of d.made) x.reach();
    await p;
    expect(late).toBe(0);
    ns.release('stuck-bind', '10.0.0.8');
    ns.release('stuck-agent', '10.0.0.9');
    await new Promise((res) => setImmediate(res));
    expect(late).toBe(2);
    // Answered within the wait: the snapshot had them, nothing to read again for.
    const q = r.resolve(labelled({ HAPROXY_0_BIND_ADDR: 'stuck-2' }), 46000);
    await new Promise((res) => setImmediate(res));
    ns.release('stuck-2', '10.0.0.10');
    expect((await q).get('stuck-2')).toBe('10.0.0.10');
    expect(late).toBe(2);
  });

  test("an app's label names past 16 are pending, not unjudged; names that failed lately take no share, so the 17th is asked next", async () => {
    const ns = nameServer({ 'lb.example.test': '127.0.0.1' });
    const d = deadlines();
    let now = 0;
    const r = new HostResolver({ lookup: ns.lookup, deadline: d.deadline, now: () => now });
    const servers = Array.from({ length: 16 }, (_, i) => `  server n${i} n${i}.example.test:80 init-addr none\n`);
    const labels = { HAPROXY_0_BACKEND_HTTP_OPTIONS: `${servers.join('')}  server x lb.example.test:9090\n` };
    const first = r.resolve(labelled(labels, 'agent-1'), 46000);
    await new Promise((res) => setImmediate(res)); // the 16 names fail at once (ENOTFOUND)
    for (const x of d.made) x.reach();
    const firstAnswer = await first;
    expect(firstAnswer.get('lb.example.test')).toBe(LOOKUP_PENDING);
    expect(firstAnswer.has('n3.example.test')).toBe(false); // known not to resolve: HAProxy's to refuse
    now = 1000;
    const second = r.resolve(labelled(labels, 'agent-1'), 46000);
    await new Promise((res) => setImmediate(res));
    for (const x of d.made) x.reach();
    expect((await second).get('lb.example.test')).toBe('127.0.0.1');
  });

  test("at most 16 of an app's label names not known yet are looked up, and at most 2 label names at a time", async () => {
    const ns = nameServer({});
    const d = deadlines();
    const r = new HostResolver({ lookup: ns.lookup, deadline: d.deadline });
    const labels = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`HAPROXY_${i}_BIND_ADDR`, `stuck-${i}`]));
    const p = r.resolve(labelled(labels, 'agent-9'), 46000);
    await new Promise((res) => setImmediate(res));
    for (const x of d.made) x.reach();
    await p;
    // agent-9 (a task host, not answered) is asked whatever the label names.
    expect(ns.calls.sort()).toEqual(['agent-9', 'stuck-0', 'stuck-1']);
    // The others wait their turn, after the snapshot too; the app's names past 16 are not asked yet.
    for (let i = 0; i < 40; i++) {
      ns.release(`stuck-${i}`, `10.0.1.${i}`);
      await new Promise((res) => setImmediate(res));
    }
    const asked = () => new Set(ns.calls.filter((h) => h.startsWith('stuck')));
    expect(asked()).toEqual(new Set(Array.from({ length: 16 }, (_, i) => `stuck-${i}`)));
    // Answered late, they are known to the next snapshot, which asks the next 16 (known ones do not count).
    const next = r.resolve(labelled(labels), 46000);
    await new Promise((res) => setImmediate(res));
    for (let i = 16; i < 40; i++) {
      ns.release(`stuck-${i}`, `10.0.1.${i}`);
      await new Promise((res) => setImmediate(res));
    }
    for (const x of d.made) x.reach();
    expect((await next).size).toBeGreaterThanOrEqual(16);
    expect(asked().size).toBe(32);
  });
});

describe('resolveOnce (--dry, check-labels)', () => {
  const once = async (b: unknown): Promise<Map<string, string>> =>
    (await resolveOnce(b, 5000, () => undefined)).addresses;
  test('looks up task hosts and BIND_ADDR names with the system resolver, and nothing for IP literals', async () => {
    const named = {
      apps: [
        { id: '/a', labels: { HAPROXY_0_BIND_ADDR: 'localhost' }, tasks: [{ id: 'a.0', host: 'localhost' }] },
        { id: '/b', tasks: [{ id: 'b.0', host: '10.0.0.2' }] },
      ],
    };
    expect(await once(named)).toEqual(new Map([['localhost', '127.0.0.1']]));
    expect(await once(body('10.0.0.1', '10.0.0.2'))).toEqual(new Map());
    expect(await once({ apps: 'not a list' })).toEqual(new Map());
  });

  test('looks up the host names of BACKEND_NETWORK_ALLOWED_ACL, with or without a mask, as HAProxy will', async () => {
    const labels = { HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: '10.0.0.0/8 db.example.test\tlocalhost/24 x/99' };
    expect([...hostNamesOf({ apps: [{ id: '/a', labels }] })]).toEqual(['db.example.test', 'localhost']);
    expect(
      await once({ apps: [{ id: '/a', labels: { HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: 'localhost/24' } }] }),
    ).toEqual(new Map([['localhost', '127.0.0.1']]));
  });

  test('waits for names at most the timeout, and says when lookups go on past it', async () => {
    const never: Lookup = (h) =>
      h === 'localhost' ? Promise.resolve('127.0.0.1') : new Promise<string>(() => undefined);
    let left = 0;
    const named = {
      apps: [
        {
          id: '/a',
          tasks: [
            { id: 'a.0', host: 'localhost' },
            { id: 'a.1', host: 'agent-9.example' },
          ],
        },
      ],
    };
    const reachedAtOnce: Deadline = () => ({ reached: Promise.resolve(), cancel: () => undefined });
    const { addresses, resolver } = await resolveOnce(named, 46_000, () => left++, {
      lookup: never,
      deadline: reachedAtOnce,
    });
    expect(addresses).toEqual(new Map([['localhost', '127.0.0.1']]));
    expect([...resolver.unanswered]).toEqual(['agent-9.example']);
    expect(left).toBe(1);
    const nx: Lookup = (h) =>
      h === 'localhost' ? Promise.resolve('127.0.0.1') : Promise.reject(new Error('NXDOMAIN'));
    await resolveOnce(named, 46_000, () => left++, { lookup: nx });
    expect(left).toBe(1); // all answered: nothing left running
  });

  test('asks every label name, within the whole timeout: no later snapshot asks for the rest', async () => {
    // 300 names: past the controller's 16 an app and its queue of 2 + 256 (an audit found the rest refused).
    const labels = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [`HAPROXY_${i}_BIND_ADDR`, `bind-${i}.example`]),
    );
    const answer: Lookup = (h) =>
      Promise.resolve(`10.0.${Number(h.split(/[-.]/)[1]) >> 8}.${Number(h.split(/[-.]/)[1]) & 255}`);
    const waits: number[] = [];
    const recorded: Deadline = (ms) => (
      waits.push(ms),
      { reached: new Promise<void>(() => undefined), cancel: () => undefined }
    );
    const { addresses } = await resolveOnce({ apps: [{ id: '/b', labels }] }, 46_000, () => undefined, {
      lookup: answer,
      deadline: recorded,
    });
    expect(addresses.size).toBe(300);
    expect(addresses.get('bind-299.example')).toBe('10.0.1.43');
    expect(waits).toEqual([46_000]); // the controller's label names: 2 s
  });

  test('a task host that is no host name is never looked up (the model leaves its app out)', () => {
    const hostile = ['a\nserver x 1.2.3.4:80', 'a b', 'a;reload', '${SECRET}', '', 'a..b', '10.0.0.1.2'];
    const apps = hostile.map((host, i) => ({ id: `/h${i}`, tasks: [{ id: `h${i}.0`, host }] }));
    expect([
      ...hostNamesOf({ apps: [...apps, { id: '/ok', tasks: [{ id: 'ok.0', host: 'agent-1.example' }] }] }),
    ]).toEqual(['agent-1.example']);
  });
});

describe('IP-per-task apps', () => {
  test("their tasks' agents are never looked up nor warned about: they are dialled at their container IPs", () => {
    const ipPerTask = (id: string, networks: unknown) => ({
      id,
      networks,
      tasks: [
        { id: `${id.slice(1)}.0`, host: `agent-${id.slice(1)}.invalid`, ipAddresses: [{ ipAddress: '10.1.0.1' }] },
      ],
    });
    const apps = {
      apps: [
        ipPerTask('/ct', [{ mode: 'container', name: 'dcos' }]),
        { ...ipPerTask('/legacy', undefined), ipAddress: { networkName: 'dcos' } },
        ipPerTask('/bridge', [{ mode: 'container/bridge' }]),
        ipPerTask('/malformed', 7), // left out by the model; looked up as a host-networking app's would be
      ],
    };
    expect([...hostNamesOf(apps)]).toEqual(['agent-bridge.invalid', 'agent-malformed.invalid']);
    expect(unresolvedTaskHosts(apps, new Map())).toEqual(['agent-bridge.invalid', 'agent-malformed.invalid']);
  });
});

describe('--dry with a task host that does not resolve', () => {
  test('a name server that never answers holds it for --request-timeout at most: the host is named, the rest rendered', async () => {
    const parsed = parseArgs(['--dry', '--apps-file', '-', '--group', 'external', '--request-timeout', '0.2'], {});
    if (!parsed.ok) throw new Error('flags');
    const tasks = ['agent-9.example', '10.0.0.1'].map((host, i) => ({ id: `web.${i}`, host, ports: [31000 + i] }));
    const app = { id: '/web', labels: { HAPROXY_GROUP: 'external' }, portDefinitions: [{ port: 10000 }], tasks };
    let stdout = '';
    let stderr = '';
    let left = false;
    const code = await runDry(
      { ...drySettings(parsed.value, {}), mapDir: tempDir() },
      {
        env: {},
        readStdin: () => Promise.resolve(Buffer.from(JSON.stringify({ apps: [app] }))),
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
        lookup: () => new Promise<string>(() => undefined),
        lookupsLeft: () => (left = true),
      },
    );
    expect({ code, stderr, left }).toEqual({
      code: 0,
      stderr:
        'marathon-lb: warning: cannot resolve task host agent-9.example to an IPv4 address (no answer within --request-timeout, 0.2 s): its tasks are left out\n',
      left: true,
    });
    expect(stdout).toContain('server 10_0_0_1_31001 10.0.0.1:31001');
    expect(stdout).not.toContain('agent-9');
  });

  test('warns once, naming the host, and renders the other tasks', () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'apps.json');
      // .invalid never resolves (RFC 6761).
      const tasks = ['agent-gone.invalid', '10.0.0.1', 'agent-gone.invalid'].map((host, i) => ({
        id: `web.${i}`,
        host,
        ports: [31000 + i],
        state: 'TASK_RUNNING',
      }));
      const app = { id: '/web', labels: { HAPROXY_GROUP: 'external' }, portDefinitions: [{ port: 10000 }], tasks };
      fs.writeFileSync(file, JSON.stringify({ apps: [app] }));
      const r = spawnSync(process.execPath, [CLI, '--dry', '--apps-file', file, '--group', 'external'], {
        encoding: 'utf8',
        timeout: 60000,
        env: { PATH: process.env.PATH },
      });
      expect(r.status).toBe(0);
      expect(r.stderr).toBe(
        'marathon-lb: warning: cannot resolve task host agent-gone.invalid to an IPv4 address: its tasks are left out\n',
      );
      expect(r.stdout.match(/^\s*server .*$/gm)).toEqual([expect.stringMatching(/ 10\.0\.0\.1:31001 /)]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an agent given as an IPv4-mapped IPv6 address', () => {
  test("is served at its IPv4 address, as marathon-lb's gethostbyname gives it; other IPv6 agents are not", () => {
    const hosts = ['::ffff:10.0.0.1', '::FFFF:a00:2', '0:0:0:0:0:ffff:10.0.0.3', 'fd00::1', '::ffff:1:10.0.0.5'];
    const tasks = hosts.map((host, i) => ({ id: `web.${i}`, host, ports: [31000 + i], state: 'TASK_RUNNING' }));
    const app = { id: '/web', labels: { HAPROXY_GROUP: 'external' }, portDefinitions: [{ port: 10000 }], tasks };
    const resolve = resolverFrom(new Map());
    expect(hosts.map(resolve)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', undefined, undefined]);
    // Only the others are warned about (and no name is looked up).
    expect(unresolvedTaskHosts({ apps: [app] }, new Map())).toEqual(['::ffff:1:10.0.0.5', 'fd00::1']);
    expect(hostNamesOf({ apps: [app] }).size).toBe(0);
    const apps = parseAppsJson({ apps: [app] });
    if (!apps.ok) throw new Error(apps.error);
    const model = toModel(
      apps.value.apps,
      { groups: ['external'], strictMode: false, healthCheck: false, servicePortRange: null },
      { resolve },
    );
    expect(model.services[0]!.servers.map((s) => `${s.ip}:${s.port}`).sort()).toEqual([
      '10.0.0.1:31000',
      '10.0.0.2:31001',
      '10.0.0.3:31002',
    ]);
  });
});

describe('names template labels send traffic to', () => {
  const withLabel = (id: string, port: number, text: string) => ({
    id,
    labels: { HAPROXY_GROUP: 'external', HAPROXY_0_BACKEND_HTTP_OPTIONS: text },
    portDefinitions: [{ port }],
    tasks: [{ id: `${id.slice(1)}.0`, host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
  });

  test('are looked up; one that names the load balancer (127.0.0.1) leaves its port out, others are served', async () => {
    const ns = nameServer({ 'lb.example.test': '127.0.0.1', 'api.example.test': '10.0.0.9' });
    const body = {
      apps: [
        withLabel('/bad', 10001, '  server s LB.example.test.:9090\n'),
        withLabel('/good', 10002, '  server s api.example.test:80 check addr 10.0.0.9\n'),
      ],
    };
    expect([...hostNamesOf(body)]).toEqual(['lb.example.test', 'api.example.test']);
    const addresses = await new HostResolver({ lookup: ns.lookup }).resolve(body, 5000);
    const parsed = parseAppsJson(body);
    if (!parsed.ok) throw new Error(parsed.error);
    const model = toModel(
      parsed.value.apps,
      { groups: ['external'], strictMode: false, healthCheck: false, servicePortRange: null },
      { resolve: resolverFrom(addresses) },
    );
    expect(model.services.map((s) => s.backend)).toEqual(['good_10002']);
    expect(model.problems).toMatchObject([
      {
        appId: '/bad',
        label: 'HAPROXY_0_BACKEND_HTTP_OPTIONS',
        message: expect.stringMatching(/"LB.example.test.:9090", the load balancer itself/),
      },
    ]);
  });
});
