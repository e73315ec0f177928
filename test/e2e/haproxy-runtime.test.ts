import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { healthGate } from '../../src/haproxy/gate';
import { CliSocket, sendAll } from '../../src/haproxy/masterSocket';
import type { Result } from '../../src/result';
import { HaproxyProcess } from '../../src/haproxy/process';
import { RuntimeApi, ServerState, parseServersState, serverNamesIn } from '../../src/haproxy/runtimeApi';
import { RuntimeUpdater } from '../../src/haproxy/runtimeUpdate';
import type { RuntimeOp } from '../../src/reconcile/plan';
import { REFUSED_BY_ADD_SERVER, addServerSpec, parseServerLine } from '../../src/haproxy/serverCommands';
import { describeWithHaproxy, startedHaproxyProcess } from '../support/haproxy';
import { freePort } from '../support/ports';
import { COMPAT_CASES_DIR } from '../support/paths';

const COMPAT = COMPAT_CASES_DIR;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

describe('parseServersState', () => {
  it("reads HAProxy 2.6's format 1 by header names", () => {
    const text = [
      '1',
      '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port',
      '3 b 22256 t1 127.0.0.1 0 1 1 1 2 1 0 0 2 0 0 1 - 31001 - 0 31002 - - 0',
      '3 b 2 t2 10.0.0.2 2 8 5 5 0 1 0 0 6 0 0 0 - 80 - 0 0 - - 0',
      '',
    ].join('\n');
    const parsed = parseServersState(text);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.value.map(({ raw: _raw, ...s }) => s)).toEqual([
      {
        backend: 'b',
        backendId: 3,
        name: 't1',
        id: 22256,
        addr: '127.0.0.1',
        port: 31001,
        opState: 0,
        adminState: 1,
        weight: 1,
        inMaintenance: true,
        draining: false,
        checkState: 2,
      },
      {
        backend: 'b',
        backendId: 3,
        name: 't2',
        id: 2,
        addr: '10.0.0.2',
        port: 80,
        opState: 2,
        adminState: 8,
        weight: 5,
        inMaintenance: false,
        draining: true,
        checkState: 6,
      },
    ]);
    expect(parsed.value[0]?.raw.srv_check_port).toBe('31002');
    expect(parseServersState('No such backend.\n')).toEqual({
      ok: false,
      error: 'unexpected answer to "show servers state": No such backend.',
    });
    // The health gate's reading: the names alone, the same ones.
    expect(serverNamesIn(text)).toEqual({ ok: true, value: new Set(['t1', 't2']) });
    expect(serverNamesIn(text.replace(/\n/g, '\r\n').replace(/ t(\d) /g, '  t$1\t'))).toEqual({
      ok: true,
      value: new Set(['t1', 't2']),
    });
    expect(serverNamesIn('1\n# be_id be_name srv_id srv_name\n')).toEqual({ ok: true, value: new Set() });
    expect(serverNamesIn('No such backend.\n')).toEqual({
      ok: false,
      error: 'unexpected answer to "show servers state": No such backend.',
    });
  });
});

interface Reply {
  readonly status: number;
  readonly body: string;
}

function get(port: number, urlPath = '/', timeoutMs = 3000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** A tiny backend answering its name; `/slow` answers after 800 ms, `/hang` never. */
async function backend(name: string): Promise<{ port: number; close: () => void }> {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    if (req.url === '/hang') return;
    const answer = () => res.end(`${name}\n`);
    if (req.url === '/slow') setTimeout(answer, 800);
    else answer();
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describeWithHaproxy('the runtime API of a real HAProxy 2.6', (haproxy) => {
  let dir: string;
  let hp: HaproxyProcess;
  let api: RuntimeApi;
  let web: number;
  const backends: Record<string, { port: number; close: () => void }> = {};

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-rt-'));
    for (const name of ['A', 'B', 'C', 'H']) backends[name] = await backend(name);
    web = await freePort();
    fs.writeFileSync(
      path.join(dir, 'haproxy.cfg'),
      [
        'global',
        '  maxconn 200',
        `  stats socket ${dir}/stats.sock level admin expose-fd listeners`,
        '  hard-stop-after 2s',
        'defaults',
        '  mode http',
        '  timeout connect 2s',
        '  timeout client 10s',
        '  timeout server 10s',
        // Named like its backend, as marathon-lb names an app's (`show stat app` finds the frontend).
        'frontend app',
        `  bind 127.0.0.1:${web}`,
        '  default_backend app',
        'backend app',
        '  balance roundrobin',
        '  cookie mesosphere_server_id insert indirect nocache',
        'backend srr',
        '  balance static-rr',
        '  server s1 127.0.0.1:1 disabled',
        'backend probe',
        '  balance roundrobin',
        '  server tracked 127.0.0.1:1 check disabled',
        '',
      ].join('\n'),
    );
    hp = await startedHaproxyProcess(haproxy.bin, dir);
    api = new RuntimeApi({
      channel: new CliSocket({ path: path.join(dir, 'stats.sock'), timeoutMs: 5000 }),
      logger: quiet,
    });
  });

  afterAll(async () => {
    await hp?.stop();
    for (const b of Object.values(backends)) b.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const state = async (backendName: string, server: string): Promise<ServerState | undefined> => {
    const all = await api.showServersState(backendName);
    if (!all.ok) throw new Error(all.error);
    return all.value.find((s) => s.name === server);
  };
  const must = <T>(r: Result<T>): T => {
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };
  const bodies = async (n: number): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await get(web)).body);
    return out;
  };
  const serverA = () => `127_0_0_1_${backends.A?.port}`;
  const serverB = () => `127_0_0_1_${backends.B?.port}`;
  /** Adds and enables the server of backend `key` in `app`, as a test's own starting point. */
  const serving = async (key: 'A' | 'B'): Promise<void> => {
    const port = backends[key]?.port;
    must(await api.addServer('app', `127_0_0_1_${port}`, '127.0.0.1', port));
    must(await api.enableServer('app', `127_0_0_1_${port}`));
  };

  // Each test starts from an empty `app` backend and adds what it needs: they pass alone and in any order.
  beforeEach(async () => {
    for (const s of must(await api.showServersState('app')))
      must(await api.drainAndDelete('app', s.name, { timeoutMs: 100, pollMs: 20, force: true }));
  });

  it('adds a server from a marathon-lb server line, enables it, and HTTP goes through it', async () => {
    expect((await get(web)).status).toBe(503); // no server yet
    const port = backends.A?.port;
    const spec = must(addServerSpec(`  server ${serverA()} 127.0.0.1:${port} id 101 check inter 1s fall 2 cookie abc`));
    expect(spec.exact).toBe(false); // 2.6 refuses `cookie` for dynamic servers
    expect(spec.dropped.map((d) => d.keyword)).toEqual(['cookie']);

    expect(await api.addServer('app', spec.name, spec.address, undefined, spec.args)).toEqual({
      ok: true,
      value: 'New server registered.',
    });
    expect(await state('app', spec.name)).toMatchObject({ id: 101, inMaintenance: true, checkState: 2 }); // check configured, not running
    expect(await api.serverNames('app')).toEqual({ ok: true, value: new Set([spec.name]) });
    expect(spec.enableHealth).toBe(true);
    must(await api.enableHealth('app', spec.name));
    must(await api.enableServer('app', spec.name));

    expect(await get(web)).toEqual({ status: 200, body: 'A' });
    const s = await state('app', spec.name);
    expect(s).toMatchObject({ id: 101, addr: '127.0.0.1', port, opState: 2, inMaintenance: false, draining: false });
    expect((s?.checkState ?? 0) & 0x04).toBe(0x04); // health check enabled
  });

  it('balances round robin over an added server, follows weight and address changes', async () => {
    await serving('A');
    const spec = must(addServerSpec(`server ${serverB()} 127.0.0.1:${backends.B?.port} id 102`));
    must(await api.addServer('app', spec.name, spec.address, undefined, spec.args));
    must(await api.enableServer('app', spec.name));
    expect(new Set(await bodies(4))).toEqual(new Set(['A', 'B']));

    must(await api.setServerWeight('app', serverA(), 0));
    expect(await bodies(4)).toEqual(['B', 'B', 'B', 'B']);
    must(await api.setServerWeight('app', serverA(), 1));
    expect(await api.setServerWeight('app', serverA(), 700)).toEqual({
      ok: false,
      error: expect.stringContaining('Absolute weight can only be between 0 and 256'),
    });

    const moved = await api.setServerAddr('app', serverB(), '127.0.0.1', backends.C?.port);
    expect(moved.ok && moved.value).toMatch(/port changed from '\d+' to '\d+'/);
    expect(new Set(await bodies(4))).toEqual(new Set(['A', 'C']));
  });

  it('drains, puts in maintenance and deletes', async () => {
    await serving('A');
    await serving('B');
    must(await api.setServerState('app', serverB(), 'drain'));
    expect(await state('app', serverB())).toMatchObject({ draining: true, inMaintenance: false });
    expect(await bodies(3)).toEqual(['A', 'A', 'A']);
    must(await api.setServerState('app', serverB(), 'maint'));
    expect(await state('app', serverB())).toMatchObject({ inMaintenance: true });

    expect(await api.delServer('app', serverA())).toEqual({
      ok: false,
      error: `del server app/${serverA()}: Only servers in maintenance mode can be deleted.`,
    });
    expect(await api.delServer('app', serverB())).toEqual({ ok: true, value: 'Server deleted.' });
    expect(await state('app', serverB())).toBeUndefined();
  });

  it('drainAndDelete waits for an in-flight request, then deletes', async () => {
    await serving('A');
    const slow = get(web, '/slow');
    let sessions = 0;
    for (let i = 0; i < 100 && sessions === 0; i++) {
      sessions = must(await api.serverSessions('app', serverA()));
      if (sessions === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(sessions).toBe(1);
    const result = await api.drainAndDelete('app', serverA(), { timeoutMs: 5000, pollMs: 50 });
    expect(result).toEqual({ ok: true, value: { waitedMs: expect.any(Number), forced: false } });
    expect(await slow).toEqual({ status: 200, body: 'A' }); // the request finished before the delete
    expect(await state('app', serverA())).toBeUndefined();
    expect((await get(web)).status).toBe(503);
  });

  it('drainAndDeleteAll: 100 idle servers and one with a request in flight drain together, a few exchanges in all', async () => {
    await serving('A');
    const idle = Array.from({ length: 100 }, (_, i) => `idle${i}`);
    must(
      await sendAll(
        hp.master.worker(),
        idle.map((n) => `add server app/${n} 127.0.0.1:${backends.B?.port}`),
      ),
    );
    const slow = get(web, '/slow');
    for (let i = 0; i < 100 && must(await api.serverSessions('app', serverA())) === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    const worker = hp.master.worker();
    const exchanges: number[] = []; // commands in each
    const counted = new RuntimeApi({
      channel: {
        send: (c) => (exchanges.push(1), worker.send(c)),
        sendAll: (cs) => (exchanges.push(cs.length), worker.sendAll!(cs)),
      },
      logger: quiet,
    });
    const servers = [serverA(), ...idle].map((name) => ({ backend: 'app', name }));
    const result = await counted.drainAndDeleteAll(servers, { timeoutMs: 5000, pollMs: 50 });
    expect(result).toEqual({ ok: true, value: { waitedMs: expect.any(Number), forced: false } });
    expect(await slow).toEqual({ status: 200, body: 'A' }); // it finished before the deletes
    expect(must(await api.showServersState('app'))).toEqual([]);
    // drain, maint and del: one exchange each for all 101; one `show stat` per poll while A is busy.
    expect(exchanges.filter((n) => n === 101)).toHaveLength(3);
    expect(exchanges.length).toBeLessThan(30);
  });

  it('drainAndDelete gives up on a hanging session with a message, or cuts it when forced', async () => {
    const name = `127_0_0_1_${backends.H?.port}`;
    must(await api.addServer('app', name, '127.0.0.1', backends.H?.port));
    must(await api.enableServer('app', name));
    const hanging = get(web, '/hang', 8000).then(
      (r) => r,
      (e: Error) => e,
    );
    for (let i = 0; i < 100 && must(await api.serverSessions('app', name)) === 0; i++)
      await new Promise((r) => setTimeout(r, 10));

    const refused = await api.drainAndDelete('app', name, { timeoutMs: 200, pollMs: 50 });
    expect(refused).toEqual({
      ok: false,
      error: `app/${name} still has 1 session(s) after 200 ms of draining; left in drain`,
    });
    expect(await state('app', name)).toMatchObject({ draining: true });

    const forced = await api.drainAndDelete('app', name, { timeoutMs: 200, pollMs: 50, force: true });
    expect(forced).toEqual({ ok: true, value: { waitedMs: expect.any(Number), forced: true } });
    expect(await state('app', name)).toBeUndefined();
    const outcome = await hanging;
    expect(outcome instanceof Error || outcome.status !== 200).toBe(true);
  });

  it('reports refusals as values', async () => {
    expect(await api.addServer('srr', 'x', '127.0.0.1', 1)).toEqual({
      ok: false,
      error: 'add server srr/x 127.0.0.1:1: Backend must use a dynamic load balancing to support dynamic servers.',
    });
    expect(await api.addServer('nope', 'x', '127.0.0.1', 1)).toEqual({
      ok: false,
      error: 'add server nope/x 127.0.0.1:1: No such backend.',
    });
    expect(await api.enableServer('app', 'ghost')).toEqual({
      ok: false,
      error: 'enable server app/ghost: No such server.',
    });
    expect(await api.enableServer('app', 'bad;name')).toEqual({ ok: false, error: 'invalid server name "bad;name"' });
    expect((await api.addServer('app', 'x', '127.0.0.1', 1, 'weight 1; shutdown sessions server app/y')).ok).toBe(
      false,
    );
    expect(await api.showServersState('nope')).toEqual({
      ok: false,
      error: "show servers state nope: Can't find backend.",
    });
    expect(await api.serverNames('nope')).toEqual({
      ok: false,
      error: "show servers state nope: Can't find backend.",
    });
  });

  it("lists backends, also through the master socket's channel to the worker", async () => {
    expect(must(await api.showBackends())).toEqual(['app', 'srr', 'probe']);
    const viaMaster = new RuntimeApi({ channel: hp.master.worker(), logger: quiet });
    expect(must(await viaMaster.showBackends())).toEqual(['app', 'srr', 'probe']);
  });

  describe('which server keywords HAProxy 2.6 accepts for add server', () => {
    let n = 0;
    const tryAdd = (args: readonly string[]) => api.addServer('probe', `k${++n}`, '127.0.0.1', 1, args);
    const SAMPLE_ARG: Record<string, string> = {
      cookie: 'abc',
      redir: 'http://x',
      namespace: 'ns',
      socks4: '127.0.0.1:1080',
      'init-addr': 'none',
      resolvers: 'dns',
      'resolve-prefer': 'ipv4',
      'resolve-net': '10.0.0.0/8',
      'resolve-opts': 'allow-dup-ip',
      'max-reuse': '10',
      'tcp-ut': '1s',
      'log-proto': 'octet-count',
    };
    const ACCEPTED = [
      'id 4242',
      'check',
      'inter 60s',
      'fall 4',
      'rise 2',
      'port 31002',
      'weight 5',
      'maxconn 77',
      'maxqueue 10',
      'minconn 1',
      'backup',
      'send-proxy',
      'send-proxy-v2',
      'slowstart 10s',
      'agent-check agent-port 9999 agent-inter 1s',
      'observe layer4',
      'on-error mark-down',
      'error-limit 10',
      'fastinter 1s',
      'downinter 1s',
      'source 127.0.0.1',
      'ssl verify none',
      'track probe/tracked',
      'proto h2',
      'enabled',
      'disabled',
      'no-backup',
      'no-send-proxy',
      'tfo',
      'pool-max-conn 10',
      'on-marked-down shutdown-sessions',
      'check inter 3s fall 11 port 31002',
    ];

    it.each(ACCEPTED)('accepts %s', async (opts) => {
      expect(await tryAdd(opts.split(' '))).toEqual({ ok: true, value: 'New server registered.' });
    });

    it.each([...REFUSED_BY_ADD_SERVER])('refuses %s (serverCommands drops it)', async (keyword) => {
      const line = `server s 127.0.0.1:1 ${keyword}${SAMPLE_ARG[keyword] ? ` ${SAMPLE_ARG[keyword]}` : ''}`;
      const parsed = must(parseServerLine(line));
      const result = await tryAdd([parsed.options[0]?.keyword ?? '', ...(parsed.options[0]?.args ?? [])]);
      expect(result).toEqual({
        ok: false,
        error: expect.stringContaining(`'${keyword}' option is not accepted for dynamic server`),
      });
      const spec = must(addServerSpec(line));
      expect(spec.args).toEqual([]);
      expect(spec.dropped.map((d) => d.keyword)).toEqual([keyword]);
    });

    it('takes what addServerSpec makes of every kind of server line in the compat corpus', async () => {
      const lines = fs
        .readdirSync(COMPAT)
        .flatMap((c) => fs.readFileSync(path.join(COMPAT, c, 'expected.cfg'), 'utf8').split('\n'))
        .filter((l) => /^\s*server\s/.test(l));
      // One line per distinct keyword sequence (e.g. "id check inter fall port cookie disabled").
      const byShape = new Map<string, string>();
      for (const l of lines) {
        const p = parseServerLine(l);
        if (p.ok && !p.value.address.includes('@')) byShape.set(p.value.options.map((o) => o.keyword).join(' '), l);
      }
      expect(byShape.size).toBeGreaterThanOrEqual(5);
      let id = 5000;
      for (const [shape, line] of byShape) {
        const spec = must(addServerSpec(line));
        const args = spec.args.map((a, i) => (spec.args[i - 1] === 'id' ? String(++id) : a));
        const added = await api.addServer('probe', `shape${id}_${shape.length}`, spec.address, undefined, args);
        expect({ line, added }).toEqual({ line, added: { ok: true, value: 'New server registered.' } });
      }
    });
  });

  it('many commands in one exchange, on the stats socket and through the master: one answer each, in order', async () => {
    const stats = new CliSocket({ path: path.join(dir, 'stats.sock'), timeoutMs: 5000 });
    const a = serverA();
    const b = serverB();
    // A refused command does not stop the ones after it; each answer stays with its command.
    expect(
      must(
        await stats.sendAll([
          `add server app/${a} 127.0.0.1:${backends.A?.port}`,
          `add server app/${a} 127.0.0.1:${backends.A?.port}`,
          `enable server app/${a}`,
        ]),
      ),
    ).toEqual(['New server registered.\n', 'Already exists a server with the same name in backend.\n', '']);
    const viaMaster = must(
      await sendAll(hp.master.worker(), [
        `add server app/${b} 127.0.0.1:${backends.B?.port}`,
        `enable server app/${b}`,
        'show servers state app',
        'enable server app/ghost',
      ]),
    );
    expect(viaMaster.map((x) => x.split('\n')[0])).toEqual(['New server registered.', '', '1', 'No such server.']);
    expect(must(serverNamesIn(viaMaster[2]!))).toEqual(new Set([a, b]));
    expect(new Set(await bodies(4))).toEqual(new Set(['A', 'B']));
  });

  const op = (kind: 'add-server' | 'remove-server', name: string, port: number, id: number): RuntimeOp => ({
    kind,
    backend: 'app',
    server: { name, id, host: '127.0.0.1', ip: '127.0.0.1', port, draining: false, healthCheckPort: null },
  });

  it('RuntimeUpdater adds 150 servers in a few exchanges through the master, all serving', async () => {
    // Names come from ports: skip the backends' own (ephemeral) ports, or a name would repeat serverA's.
    const taken = new Set(Object.values(backends).map((b) => b.port));
    const ports = Array.from({ length: 160 }, (_, i) => 40000 + i)
      .filter((p) => !taken.has(p))
      .slice(0, 150);
    const lines = new Map(
      ports.map((p, i) => [`127_0_0_1_${p}`, `  server 127_0_0_1_${p} 127.0.0.1:${p} id ${i + 1000}`]),
    );
    lines.set(serverA(), `  server ${serverA()} 127.0.0.1:${backends.A?.port} id 999`);
    const ops = [
      op('add-server', serverA(), backends.A!.port, 999),
      ...ports.map((p, i) => op('add-server', `127_0_0_1_${p}`, p, i + 1000)),
    ];
    const sent: number[] = [];
    const worker = hp.master.worker();
    const counting = {
      send: (cmd: string) => worker.send(cmd),
      sendAll: (cmds: readonly string[]) => (sent.push(cmds.length), worker.sendAll!(cmds)),
    };
    expect(await new RuntimeUpdater(counting, quiet).apply(ops, () => lines)).toBeNull();
    expect(sent).toEqual([256, 46]); // 151 add server + 151 enable server
    const servers = must(await api.showServersState('app'));
    expect(servers).toHaveLength(151);
    expect(servers.every((s) => !s.inMaintenance)).toBe(true);
    expect(servers.find((s) => s.name === serverA())?.id).toBe(999);
  });

  it("a server option with ';' never reaches HAProxy: the update is refused (a reload follows), no command runs", async () => {
    const reloads = async (): Promise<number> => must(await hp.master.showProc()).master.reloads;
    const before = await reloads();
    const name = serverA();
    // HAProxy's config takes `x;reload` as one word; its command line would run `reload` after the `;`.
    const line = `  server ${name} 127.0.0.1:${backends.A?.port} agent-send x;reload`;
    const reason = await new RuntimeUpdater(hp.master.worker(), quiet).apply(
      [op('add-server', name, backends.A!.port, 7)],
      () => new Map([[name, line]]),
    );
    expect(reason).toEqual({
      kind: 'runtime-refused',
      detail: `server line has ';', which the runtime API takes as the start of another command: ${line.trim()}`,
    });
    // The channel refuses it too, whoever builds the command.
    expect((await hp.master.worker().send(`add server app/${name} 127.0.0.1:1 agent-send x;reload`)).ok).toBe(false);
    expect((await sendAll(hp.master.worker(), [`enable server app/${name}`, 'show info;reload'])).ok).toBe(false);
    expect(await reloads()).toBe(before);
    expect(await state('app', name)).toBeUndefined();
  });

  it('RuntimeUpdater removes a server once its request in flight ended; one still running is not cut, the update refused', async () => {
    const hang = `127_0_0_1_${backends.H?.port}`;
    /** A request through HAProxy, once `server` counts it (wrapped: an async function's promise would wait for it). */
    const inFlight = async (server: string, urlPath: string): Promise<{ reply: Promise<Reply | Error> }> => {
      const reply = get(web, urlPath, 8000).then(
        (r) => r,
        (e: Error) => e,
      );
      for (let i = 0; i < 100 && must(await api.serverSessions('app', server)) === 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(must(await api.serverSessions('app', server))).toBe(1);
      return { reply };
    };
    must(await api.addServer('app', hang, '127.0.0.1', backends.H?.port));
    must(await api.enableServer('app', hang));
    const hanging = (await inFlight(hang, '/hang')).reply; // H alone serves
    await serving('A');
    must(await api.setServerState('app', hang, 'drain')); // A alone gets new requests
    const slow = (await inFlight(serverA(), '/slow')).reply;
    const updater = new RuntimeUpdater(hp.master.worker(), quiet);
    // A's 800 ms request ends within the wait: A goes, after its answer.
    expect(await updater.apply([op('remove-server', serverA(), backends.A!.port, 1)], () => new Map())).toBeNull();
    expect(await slow).toEqual({ status: 200, body: 'A' });
    expect(await state('app', serverA())).toBeUndefined();
    // H's request never ends: it is not cut, H stays in drain, and the caller reloads instead.
    expect(await updater.apply([op('remove-server', hang, backends.H!.port, 2)], () => new Map())).toEqual({
      kind: 'runtime-refused',
      detail: `app/${hang} still has 1 session(s) after 2000 ms of draining; left in drain`,
    });
    expect(await state('app', hang)).toMatchObject({ draining: true });
    expect(must(await api.serverSessions('app', hang))).toBe(1);
    must(await hp.master.worker().send(`shutdown sessions server app/${hang}`)); // cut here, by the test
    expect(await hanging).not.toMatchObject({ status: 200 });
  }, 20000);

  it("the health gate finds a new worker's listeners paused and resumes them, saying so", async () => {
    const accepts = (): Promise<boolean> =>
      new Promise((resolve) => {
        const c = net.connect(web, '127.0.0.1');
        c.once('connect', () => (c.destroy(), resolve(true)));
        c.once('error', () => resolve(false));
      });
    expect(await accepts()).toBe(true);
    // The state HAProxy 2.6.12 left a reload in (helper 61): every listener of the worker paused.
    const worker = must(await hp.master.showProc()).workers[0]!.pid;
    process.kill(worker, 'SIGTTOU');
    for (let i = 0; i < 50 && (await accepts()); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await accepts()).toBe(false);
    const warned: string[] = [];
    const gated = await healthGate(
      { showProc: () => hp.master.showProc(), worker: hp.master.worker(), warn: (m) => void warned.push(m) },
      {
        model: { services: [], problems: [] },
        rendered: { config: '', domainMap: '', appMap: '', served: [], problems: [] },
      },
      [],
    );
    expect(gated).toEqual({ ok: true, value: undefined });
    expect(await accepts()).toBe(true);
    expect(warned).toEqual(["HAProxy's new worker started with its listeners paused (app): resumed them"]);
  });

  it('runtime changes are lost on reload unless the config file has them', async () => {
    must(await api.addServer('app', 'ephemeral', '127.0.0.1', backends.C?.port));
    expect(await state('app', 'ephemeral')).toBeDefined();
    const reload = await hp.reload();
    if (!reload.ok) throw new Error(reload.error.message);
    expect(await state('app', 'ephemeral')).toBeUndefined();
  });
});
