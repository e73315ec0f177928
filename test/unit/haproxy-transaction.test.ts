/**
 * The apply transaction (src/haproxy/applier.ts) against a fake HAProxy: a fake master process whose
 * worker channel answers the runtime API's commands like HAProxy 2.6, a fake `haproxy -c` and a fake
 * clock. Real files in a temp directory. Fast: no process, no sleep.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lastValueFrom } from 'rxjs';
import { HaproxyApplier } from '../../src/haproxy/applier';
import { fakeClock } from '../../src/haproxy/clock';
import { CommandHaproxy, type CommandRun } from '../../src/haproxy/command';
import { type CommandChannel, type HaproxyLogger, type ProcList } from '../../src/haproxy/masterSocket';
import { type Result, err, ok } from '../../src/result';
import { OwnedHaproxy, type ManagedProcess } from '../../src/haproxy/owned';
import { ServedMark } from '../../src/haproxy/servedMark';
import type { ReloadResult, StartResult } from '../../src/haproxy/process';
import type { CheckFailure } from '../../src/haproxy/validate';
import type { Service } from '../../src/model/types';
import type { RenderedConfig } from '../../src/render/render';
import type { ApplyReport, DesiredState } from '../../src/reconcile/applyPort';
import { plan } from '../../src/reconcile/plan';
import { formatReason } from '../../src/reconcile/reloadReason';
import { makeServer as server, makeService as service, testConfigFiles } from '../support/fixtures';

const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

/** Rendering for these tests: one backend per service; a service named bad* carries a line `haproxy -c` rejects. */
function render(services: readonly Service[]): RenderedConfig {
  const text = [
    'global',
    '  maxconn 100',
    'defaults',
    '  timeout client 50s',
    '  timeout tunnel 2h',
    ...services.flatMap((s) => [
      `backend ${s.backend}`,
      ...(s.backend.startsWith('bad') ? ['  BAD directive'] : []),
      ...s.servers.map((v) => `  server ${v.name} ${v.ip}:${v.port}`),
    ]),
    '',
  ].join('\n');
  return { config: text, domainMap: '', appMap: '', served: services, problems: [] };
}
const state = (services: Service[]): DesiredState => ({
  model: { services, problems: [] },
  rendered: render(services),
});

/** A master-worker HAProxy as seen through its sockets: reload reads the config file from disk. */
class FakeHaproxy implements ManagedProcess {
  alive = false;
  closed = false;
  backends = new Map<string, Map<string, string>>();
  reloads = 0;
  starts = 0;
  /** What the next reloads do, in order; then 'ok'. */
  reloadScript: ('ok' | 'timeout' | 'refused' | 'exits')[] = [];
  refuseAddServer = false;
  /** Backends `show backend` leaves out (a gate that must fail). */
  hidden = new Set<string>();
  sent: string[] = [];

  constructor(private readonly configPath: string) {}

  isAlive(): boolean {
    return this.alive;
  }
  isClosed(): boolean {
    return this.closed;
  }

  async start(): Promise<StartResult> {
    this.starts++;
    this.load();
    this.alive = true;
    return ok({ masterPid: 1, workerPid: 2, attached: false });
  }

  async retireAttached(): Promise<Result<string>> {
    this.alive = false;
    return ok('soft');
  }

  async reload(): Promise<ReloadResult> {
    this.reloads++;
    const next = this.reloadScript.shift() ?? 'ok';
    if (next === 'exits') {
      // HAProxy could not fork the new worker: the master and the old worker exit.
      this.alive = false;
      return err({
        refused: false,
        servingWorkerPids: [],
        oldWorkers: [],
        message: 'HAProxy exited during the reload',
      });
    }
    if (next !== 'ok') {
      return err({
        refused: next === 'refused',
        servingWorkerPids: [2],
        oldWorkers: [],
        message:
          next === 'refused'
            ? 'HAProxy rejected the new config; the previous worker (2) keeps serving'
            : 'HAProxy did not confirm the reload within 15000 ms',
      });
    }
    this.load();
    return ok({ newWorkerPid: 2 + this.reloads, oldWorkers: [2] });
  }

  async showProc(): Promise<Result<ProcList>> {
    const p = (pid: number) => ({ pid, type: 'worker', reloads: 0, uptime: '0s', version: '2.6' });
    return this.alive
      ? ok({
          master: { ...p(1), type: 'master', reloads: this.reloads },
          workers: [p(2 + this.reloads)],
          oldWorkers: [],
          programs: [],
        })
      : err('nothing listens');
  }

  readonly master = { worker: (): CommandChannel => ({ send: (c) => Promise.resolve(this.answer(c)) }) };

  private load(): void {
    this.backends = new Map();
    let current: Map<string, string> | undefined;
    for (const line of fs.readFileSync(this.configPath, 'utf8').split('\n')) {
      const be = /^backend (\S+)/.exec(line);
      if (be) this.backends.set(be[1] as string, (current = new Map<string, string>()));
      const sv = /^\s+server (\S+) (\S+)/.exec(line);
      if (sv && current) current.set(sv[1] as string, sv[2] as string);
    }
  }

  private answer(command: string): Result<string> {
    this.sent.push(command);
    let m: RegExpExecArray | null;
    if (command === 'show backend')
      return ok(`# name\n${[...this.backends.keys()].filter((b) => !this.hidden.has(b)).join('\n')}\n`);
    if ((m = /^show servers state(?: (\S+))?$/.exec(command))) {
      const only = m[1];
      const rows = [...this.backends].flatMap(([be, servers], i) =>
        (only !== undefined && be !== only ? [] : [...servers]).map(
          ([name, addr], j) =>
            `${i + 1} ${be} ${j + 1} ${name} ${addr.split(':')[0]} 2 0 1 1 0 6 3 4 6 0 0 0 - ${addr.split(':')[1]}`,
        ),
      );
      return ok(
        `1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port\n${rows.join('\n')}\n`,
      );
    }
    if ((m = /^add server (\S+)\/(\S+) (\S+)/.exec(command))) {
      if (this.refuseAddServer)
        return ok(`Backend '${m[1]}': this backend does not support dynamic servers (refused).`);
      this.backends.get(m[1] as string)?.set(m[2] as string, m[3] as string);
      return ok('New server registered.');
    }
    if (/^show stat (\S+) 4 -1/.test(command)) return ok('# pxname,svname,scur\n');
    if (command === 'show stat -1 1 -1') return ok('# pxname,svname,status\n'); // no frontend paused
    if ((m = /^del server (\S+)\/(\S+)/.exec(command))) {
      this.backends.get(m[1] as string)?.delete(m[2] as string);
      return ok('Server deleted.');
    }
    if (/^(enable|disable|set) /.test(command)) return ok('');
    if (command === 'show info') return ok('Name: HAProxy\nVersion: 2.6.12\nPid: 2\n'); // the worker answers
    return ok(`Unknown command: ${command}`);
  }
}

let dir: string;
let configPath: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-tx-'));
  configPath = path.join(dir, 'haproxy.cfg');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function setup(
  o: {
    retries?: number;
    target?: 'owned' | 'command';
    run?: (c: string) => Promise<CommandRun>;
    pids?: () => Promise<ReadonlySet<number>>;
    /** `haproxy -c` of a config text (default: refused when it holds BAD). */
    check?: (config: string) => Result<void, CheckFailure>;
    /** The applier's logger (default: quiet). */
    logger?: HaproxyLogger;
    /** The HAProxy a restarted controller finds (default: a new one, not running). */
    haproxy?: FakeHaproxy;
    /** Keeps the note that HAProxy runs the files on disk; the master adopted, if any. */
    served?: { readonly adoptedMaster?: number };
  } = {},
) {
  const clock = fakeClock(1000);
  const files = testConfigFiles(configPath, (cfg) => {
    const text = fs.readFileSync(cfg, 'utf8');
    if (o.check !== undefined) return Promise.resolve(o.check(text));
    return Promise.resolve(
      text.includes('BAD')
        ? err({ message: `[${cfg}:7] unknown keyword 'BAD' in 'backend' section`, refused: true })
        : ok(undefined),
    );
  });
  const haproxy = o.haproxy ?? new FakeHaproxy(configPath);
  const retry = { retries: o.retries ?? 2, intervalMs: 10_000 };
  const target =
    o.target === 'command'
      ? new CommandHaproxy({ command: 'reload-it', retry, clock, logger: quiet, run: o.run, haproxyPids: o.pids })
      : new OwnedHaproxy({ process: haproxy, files, runtimeFiles: [], retry, clock, logger: quiet });
  const servedMark = o.served === undefined ? undefined : new ServedMark(notePath(), files.paths);
  const applier = new HaproxyApplier({
    target,
    files,
    logger: o.logger ?? quiet,
    render,
    ...(servedMark === undefined ? {} : { servedMark, adoptedMaster: o.served?.adoptedMaster }),
  });
  const apply = (next: DesiredState, previous: DesiredState | null): Promise<ApplyReport> =>
    lastValueFrom(
      applier.apply(
        next,
        plan(
          previous?.model.services ?? null,
          next.model.services,
          previous === null ? undefined : { previous: previous.rendered.config, next: next.rendered.config },
        ),
        previous,
      ),
    );
  return { clock, haproxy, apply, applier, files };
}

const onDisk = (): string => fs.readFileSync(configPath, 'utf8');
const notePath = (): string => path.join(dir, 'haproxy.pid.served');

describe('the apply transaction', () => {
  test('a reload that leaves nothing serving (the master exited) starts HAProxy at once, not after --reload-interval', async () => {
    const { clock, haproxy, apply } = setup();
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    haproxy.reloadScript = ['exits'];
    const two = state([service('a', [server(1)]), service('b', [server(2)])]);
    const r = await apply(two, one);
    expect(r.reloaded).toBe(true);
    expect(haproxy.starts).toBe(2);
    expect(haproxy.alive).toBe(true);
    expect(clock.slept).not.toContain(10_000); // --reload-interval is 10 s here
  });

  test('first apply starts HAProxy with the live config: hard-stop-after from the longest timeout (2 h), mworker-max-reloads', async () => {
    const { haproxy, apply } = setup();
    const r = await apply(state([service('a', [server(1)])]), null);
    expect(r).toEqual({ reloaded: true, reasons: [{ kind: 'not-running' }, { kind: 'initial' }], runtimeOps: 0 });
    expect(haproxy.starts).toBe(1);
    expect(onDisk()).toMatch(/^global\n {2}mworker-max-reloads 10\n {2}hard-stop-after 7200s\n/);
  });

  test('task churn goes through the runtime API: no reload, the file written for the next one', async () => {
    const { haproxy, apply, files } = setup();
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    const two = state([service('a', [server(1), server(2)])]);
    expect(await apply(two, one)).toEqual({ reloaded: false, reasons: [], runtimeOps: 1 });
    expect(haproxy.reloads).toBe(0);
    expect(haproxy.sent).toContain('add server a/10_0_0_2_31000 10.0.0.2:31000');
    await files.written(); // behind the apply: HAProxy runs it already
    expect(onDisk()).toContain('server 10_0_0_2_31000 10.0.0.2:31000');
  });

  test('runtime API refused → a reload, and the report (not the plan) says so', async () => {
    const { haproxy, apply } = setup();
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    haproxy.refuseAddServer = true;
    const r = await apply(state([service('a', [server(1), server(2)])]), one);
    expect(r.reloaded).toBe(true);
    expect(r.reasons.map((x) => x.kind)).toEqual(['runtime-refused']);
    expect(formatReason(r.reasons[0]!)).toMatch(
      /^runtime API could not apply the change \(add server a\/10_0_0_2_31000 .*refused/,
    );
    expect(haproxy.reloads).toBe(1);
    expect(haproxy.backends.get('a')?.has('10_0_0_2_31000')).toBe(true);
  });

  test('a runtime change cut short by the controller stopping HAProxy is not reloaded in its place, nor its rollback', async () => {
    const said: string[] = [];
    const logger = {
      ...quiet,
      warn: (m: string) => said.push(`warn ${m}`),
      info: (m: string) => said.push(`info ${m}`),
    };
    const { haproxy, apply } = setup({ logger });
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    const before = onDisk();
    said.length = 0;
    // The stop came first: HAProxy's socket is going, so the runtime API refuses.
    haproxy.closed = true;
    haproxy.refuseAddServer = true;
    await expect(apply(state([service('a', [server(1), server(2)])]), one)).rejects.toThrow(
      /^HAProxy is stopping with the controller: runtime API could not apply the change .*; left to the next start$/,
    );
    expect(haproxy.reloads).toBe(0);
    expect(onDisk()).toBe(before);
    expect(said).toEqual(['info stopping: the last good HAProxy config goes back on disk for the next start']);
  });

  test('a fast-path state (config text of the state before) refused by the runtime API is reloaded rendered in full', async () => {
    const { haproxy, apply } = setup();
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    // What the fast path builds: servers changed in the model, the config text left as HAProxy read it.
    const two = state([service('a', [server(1), server(2)])]);
    const fast: DesiredState = { ...two, rendered: one.rendered, source: { apps: [], hosts: new Map(), fast: true } };
    haproxy.refuseAddServer = true;
    const r = await apply(fast, one);
    expect(r.reloaded).toBe(true);
    expect(r.reasons.map((x) => x.kind)).toEqual(['runtime-refused']);
    expect(onDisk()).toContain('server 10_0_0_2_31000 10.0.0.2:31000');
    expect(haproxy.backends.get('a')?.has('10_0_0_2_31000')).toBe(true);
    expect(r.applied?.rendered.config).toContain('server 10_0_0_2_31000 10.0.0.2:31000');
  });

  test('isolation: the app haproxy -c rejects is left out, the rest applied; reasons are those of the change HAProxy got', async () => {
    const { haproxy, apply } = setup();
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    const r = await apply(
      state([service('a', [server(1)]), service('bad1', [server(2)]), service('b', [server(3)])]),
      one,
    );
    expect(r.reloaded).toBe(true);
    expect(r.reasons).toEqual([{ kind: 'backend-added', backend: 'b' }]);
    expect(r.rejected?.map((x) => x.service.backend)).toEqual(['bad1']);
    expect(r.applied?.model.services.map((s) => s.backend)).toEqual(['a', 'b']);
    expect([...haproxy.backends.keys()]).toEqual(['a', 'b']);
    expect(onDisk()).not.toContain('bad1');
  });

  test('a haproxy -c that cannot run at all (no process left to fork) blames no app and looks for no hang', async () => {
    // It searched for what the check "hangs on" with checks that could not run either (helper 74).
    let checks = 0;
    let forkable = true;
    const { haproxy, apply } = setup({
      check: () => {
        checks++;
        return forkable ? ok(undefined) : err({ message: 'cannot run haproxy to check x: EAGAIN', refused: false });
      },
    });
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    forkable = false;
    checks = 0;
    const next = state([service('a', [server(1)]), service('b', [server(2)])]);
    await expect(apply(next, one)).rejects.toThrow(
      /^haproxy -c could not check the new config .*cannot run haproxy to check x: EAGAIN — no app is blamed$/,
    );
    expect(checks).toBe(1);
    expect(haproxy.reloads).toBe(0);
  });

  test('a haproxy -c that does not complete on a loaded machine blames no app and leaves HAProxy as it runs (no reload)', async () => {
    // A check timing out on a loaded machine once left the app it was checking out until its labels changed.
    let slow = false;
    const { haproxy, apply } = setup({
      check: (config) =>
        slow
          ? err({ message: 'haproxy -c -f x did not finish within 30000 ms', refused: false, hung: true })
          : config.includes('BAD')
            ? err({ message: "unknown keyword 'BAD'", refused: true })
            : ok(undefined),
    });
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    const good = onDisk();
    slow = true;
    const next = state([service('a', [server(1)]), service('b', [server(2)])]);
    // The config without the changed services does not complete either: nobody is blamed.
    await expect(apply(next, one)).rejects.toThrow(
      /haproxy -c could not check the new config .*did not finish.* no app is blamed \(the config without the changed services does not pass either\)/,
    );
    await expect(
      apply(state([service('a', [server(1)]), service('b', [server(2)]), service('bad1', [server(3)])]), one),
    ).rejects.toThrow(/haproxy -c could not check the new config .* no app is blamed/);
    expect(haproxy.reloads).toBe(0);
    expect(onDisk()).toBe(good);
    slow = false;
    const r = await apply(next, one); // the retry, once checks complete again
    expect(r.rejected).toBeUndefined();
    expect([...haproxy.backends.keys()]).toEqual(['a', 'b']);
  });

  test('a haproxy -c that never completes with one changed app leaves that app out, to be tried again later', async () => {
    const { haproxy, apply } = setup({
      check: (config) =>
        config.includes('backend b')
          ? err({ message: 'haproxy -c -f x did not finish within 30000 ms', refused: false, hung: true })
          : ok(undefined),
    });
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    const r = await apply(
      state([service('a', [server(1)]), service('b', [server(2)]), service('c', [server(3)])]),
      one,
    );
    expect(r.rejected?.map((x) => [x.service.backend, x.retried])).toEqual([['b', true]]);
    expect(r.rejected?.[0]?.problem.message).toMatch(/haproxy -c does not finish with backend b, left out/);
    expect([...haproxy.backends.keys()]).toEqual(['a', 'c']);
  });

  test('a config haproxy -c refuses is not followed by a reload "restoring" the one HAProxy still runs', async () => {
    // Each retry of a broken global template reloaded HAProxy, and old workers' connections were cut.
    let broken = false;
    const { haproxy, apply } = setup({
      check: () =>
        broken ? err({ message: "unknown keyword 'oops' in 'global' section", refused: true }) : ok(undefined),
    });
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    broken = true;
    for (let retry = 0; retry < 3; retry++)
      await expect(apply(state([service('a', [server(1)]), service('b', [server(2)])]), one)).rejects.toThrow(
        /not caused by any app/,
      );
    expect(haproxy.reloads).toBe(0);
    // HAProxy's words once, not again for the config without any app (an audit: 2 KB logged twice).
    const error = await apply(state([service('a', [server(1)]), service('b', [server(2)])]), one).then(
      () => 'applied',
      (e: Error) => e.message,
    );
    expect(String(error).split("unknown keyword 'oops'")).toHaveLength(2);
  });

  test('a refused reload names the app (trial reloads): left out, HAProxy ends on the good rest', async () => {
    const { haproxy, apply } = setup();
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    haproxy.reloadScript = ['refused']; // the full config; the trials then pass unless `hog` is in
    const next = state([service('a', [server(1)]), service('hog', [server(2)])]);
    const r = await apply(next, one);
    expect(r.rejected?.map((x) => x.service.backend)).toEqual(['hog']);
    expect(r.reasons.length).toBeGreaterThan(0);
    expect([...haproxy.backends.keys()]).toEqual(['a']);
  });

  test('gate failure: the apply fails and the last good files are put back and reloaded', async () => {
    const { haproxy, apply } = setup();
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    const good = onDisk();
    haproxy.hidden.add('b');
    await expect(apply(state([service('a', [server(1)]), service('b', [server(2)])]), one)).rejects.toThrow(
      /health gate: HAProxy does not run backend\(s\) b/,
    );
    expect(onDisk()).toBe(good);
    expect(haproxy.reloads).toBe(2); // the new config, then the last good one again
  });

  test('an unconfirmed reload is retried every --reload-interval, --max-reload-retries times, then the old files are restored', async () => {
    const { haproxy, apply, clock } = setup({ retries: 2 });
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    const good = onDisk();
    haproxy.reloadScript = ['timeout', 'timeout', 'timeout'];
    await expect(apply(state([service('b', [server(1)])]), one)).rejects.toThrow(
      /did not confirm the reload .*\(3 tries, --max-reload-retries 2\)/,
    );
    expect(clock.slept.filter((ms) => ms === 10_000)).toHaveLength(2);
    expect(onDisk()).toBe(good);
  });

  test('a retried reload that then works commits', async () => {
    const { haproxy, apply, clock } = setup({ retries: 2 });
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    haproxy.reloadScript = ['timeout'];
    const r = await apply(state([service('b', [server(1)])]), one);
    expect(r.reasons.map(formatReason)).toEqual(['backend b added', 'backend a removed']);
    expect(clock.slept).toEqual([10_000]);
  });
});

describe('a restarted controller and the HAProxy it adopts', () => {
  /** A controller that applied `states` in turn (HAProxy started by the first), then was killed. */
  const ranBefore = async (...states: DesiredState[]): Promise<FakeHaproxy> => {
    const first = setup({ served: {} });
    let previous: DesiredState | null = null;
    for (const s of states) {
      await first.apply(s, previous);
      previous = s;
    }
    await first.applier.settled(); // the note, written behind the last apply
    return first.haproxy;
  };
  const one = (): DesiredState => state([service('a', [server(1)])]);
  const two = (): DesiredState => state([service('a', [server(1), server(2)])]);

  test('its first apply keeps an HAProxy that runs the very files it would write: no reload, no runtime command', async () => {
    const haproxy = await ranBefore(one(), two()); // the second through the runtime API, its file written behind
    expect(fs.existsSync(notePath())).toBe(true);
    const sent = haproxy.sent.length;
    const next = setup({ haproxy, served: { adoptedMaster: 1 } });
    expect(await next.apply(two(), null)).toEqual({ reloaded: false, reasons: [], runtimeOps: 0, keptAdopted: true });
    expect(haproxy.reloads).toBe(0);
    expect(haproxy.sent.slice(sent).filter((c) => !c.startsWith('show '))).toEqual([]);
    // Later changes go on as before, and the note follows them.
    expect(await next.apply(state([service('a', [server(1)])]), two())).toMatchObject({ runtimeOps: 1 });
    await next.applier.settled();
    expect(fs.existsSync(notePath())).toBe(true);
  });

  test.each([
    ['the config differs from what it would write', () => undefined, one],
    ['the note is gone (an apply was cut short)', () => fs.rmSync(notePath()), two],
    ['the config was written again since (an edit, even to the same text)', () => rewrite(configPath), two],
    ['a map file appeared since', () => fs.writeFileSync(path.join(dir, 'app2backend.map'), ''), two],
  ])('it reloads when %s', async (_, meanwhile, asked) => {
    const haproxy = await ranBefore(one(), two());
    meanwhile();
    const next = setup({ haproxy, served: { adoptedMaster: 1 } });
    const r = await next.apply(asked(), null);
    expect(r).toMatchObject({ reloaded: true, reasons: [{ kind: 'initial' }] });
    expect(haproxy.reloads).toBe(1);
  });

  test('it reloads a master that is not the one adopted, and never keeps one on a later apply', async () => {
    const haproxy = await ranBefore(one());
    const other = setup({ haproxy, served: { adoptedMaster: 7 } });
    expect(await other.apply(one(), null)).toMatchObject({ reloaded: true });
    const notAdopted = setup({ haproxy, served: {} });
    expect(await notAdopted.apply(one(), null)).toMatchObject({ reloaded: true });
    expect(haproxy.reloads).toBe(2);
  });

  test('a fast-path change (servers changed at runtime only, not on disk) removes the note', async () => {
    const haproxy = await ranBefore(one());
    expect(fs.existsSync(notePath())).toBe(true);
    const c = setup({ haproxy, served: {} });
    const fast: DesiredState = {
      ...two(),
      source: { apps: [], hosts: new Map(), fast: true } as DesiredState['source'],
    };
    expect(await c.apply(fast, one())).toMatchObject({ reloaded: false, runtimeOps: 1 });
    await c.applier.settled();
    expect(fs.existsSync(notePath())).toBe(false);
  });
});

/** The file written again with the same text (a new inode, as an editor's save or a copy makes). */
function rewrite(file: string): void {
  const text = fs.readFileSync(file);
  fs.rmSync(file);
  fs.writeFileSync(file, text);
}

describe('--command mode (marathon-lb reloadConfig)', () => {
  test('writes and validates, runs the command; a failing command is retried --max-reload-retries times', async () => {
    const runs: string[] = [];
    const codes = [1, 1, 0];
    const pids = [new Set([10]), new Set([10]), new Set([10]), new Set([10, 11])];
    const { apply, clock } = setup({
      target: 'command',
      retries: 3,
      run: (c) => {
        runs.push(c);
        return Promise.resolve({ code: codes.shift() ?? 0, signal: null, output: 'no luck' });
      },
      pids: () => Promise.resolve(pids.length > 1 ? pids.shift()! : pids[0]!),
    });
    const r = await apply(state([service('a', [server(1)])]), null);
    expect(r).toEqual({ reloaded: true, reasons: [{ kind: 'initial' }], runtimeOps: 0 });
    expect(runs).toEqual(['reload-it', 'reload-it', 'reload-it']);
    expect(clock.slept.filter((ms) => ms === 10_000)).toHaveLength(2);
    expect(onDisk()).toContain('backend a');
  });

  test('retries used up: the apply fails naming the command and its exit code', async () => {
    const { apply } = setup({
      target: 'command',
      retries: 1,
      run: () => Promise.resolve({ code: 3, signal: null, output: 'boom' }),
      pids: () => Promise.resolve(new Set<number>()),
    });
    await expect(apply(state([service('a', [server(1)])]), null)).rejects.toThrow(
      /--command "reload-it" exited with code 3: boom \(2 tries, --max-reload-retries 1\)/,
    );
  });

  test('task churn is a reload too (no runtime API), and nothing runs when the files on disk are already the new ones', async () => {
    let runs = 0;
    const { apply } = setup({
      target: 'command',
      run: () => {
        runs++;
        return Promise.resolve({ code: 0, signal: null, output: '' });
      },
      pids: () => Promise.resolve(new Set<number>()),
    });
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    const r = await apply(state([service('a', [server(1), server(2)])]), one);
    expect(r.reasons).toEqual([{ kind: 'external-reload', runtimeOps: 1 }]);
    expect(runs).toBe(2);
    // A fresh one-pass run (previous null) with the same apps: the files are unchanged, no command.
    expect(await apply(state([service('a', [server(1), server(2)])]), null)).toEqual({
      reloaded: false,
      reasons: [],
      runtimeOps: 0,
    });
    expect(runs).toBe(2);
  });

  test('SIGUSR1 (marathon-lb do_reload): the config on disk is validated, then the command runs', async () => {
    let runs = 0;
    const { apply, applier } = setup({
      target: 'command',
      run: () => {
        runs++;
        return Promise.resolve({ code: 0, signal: null, output: '' });
      },
      pids: () => Promise.resolve(new Set<number>()),
    });
    await apply(state([service('a', [server(1)])]), null);
    expect(await lastValueFrom(applier.reloadExisting({ kind: 'sigusr1' }, null))).toEqual({
      reloaded: true,
      reasons: [{ kind: 'sigusr1' }],
      runtimeOps: 0,
    });
    expect(await lastValueFrom(applier.reloadExisting({ kind: 'haproxy-restarted' }, null))).toEqual({
      reloaded: true,
      reasons: [{ kind: 'haproxy-restarted' }],
      runtimeOps: 0,
    });
    expect(runs).toBe(3);
    fs.writeFileSync(configPath, 'global\n  BAD\n');
    await expect(lastValueFrom(applier.reloadExisting({ kind: 'sigusr1' }, null))).rejects.toThrow(
      /SIGUSR1: the config on disk is not valid, not reloading/,
    );
    await expect(lastValueFrom(applier.reloadExisting({ kind: 'haproxy-restarted' }, null))).rejects.toThrow(
      /restarting HAProxy: the config on disk is not valid, not reloading/,
    );
    expect(runs).toBe(3);
  });

  test('the config directory removed while running (a clean-up of /run): the next change and a restart make it again', async () => {
    configPath = path.join(dir, 'run', 'haproxy.cfg');
    fs.mkdirSync(path.dirname(configPath));
    const { apply, applier, files } = setup();
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    fs.rmSync(path.dirname(configPath), { recursive: true });
    const two = state([service('a', [server(1)]), service('b', [server(2)])]);
    expect((await apply(two, one)).reloaded).toBe(true);
    expect(onDisk()).toBe(files.of(two).config);
    fs.rmSync(path.dirname(configPath), { recursive: true });
    expect(await lastValueFrom(applier.reloadExisting({ kind: 'haproxy-restarted' }, two))).toEqual({
      reloaded: true,
      reasons: [{ kind: 'haproxy-restarted' }],
      runtimeOps: 0,
    });
    expect(onDisk()).toBe(files.of(two).config);
  });

  // The file held the snapshot the fast path built on: HAProxy took back a killed task and lost a new
  // one, and the next snapshot, equal to the fast state, changed nothing (found by an audit).
  test.each(['sigusr1', 'haproxy-restarted'] as const)(
    'a reload of the config on disk (%s) after fast-path changes loads the servers HAProxy ran',
    async (kind) => {
      const { apply, applier, haproxy, files } = setup();
      const snapshot = state([service('a', [server(1), server(2)])]);
      await apply(snapshot, null);
      // Task 2 killed and task 3 started, at runtime only: the text is still the snapshot's.
      const fast: DesiredState = {
        model: { services: [service('a', [server(1), server(3)])], problems: [] },
        rendered: snapshot.rendered,
        source: { apps: [], hosts: new Map(), fast: true },
      };
      expect(await lastValueFrom(applier.reloadExisting({ kind }, fast))).toEqual({
        reloaded: true,
        reasons: [{ kind }],
        runtimeOps: 0,
      });
      expect(onDisk()).toBe(files.of({ ...fast, rendered: render(fast.model.services) }).config);
      expect([...haproxy.backends.get('a')!.keys()].sort()).toEqual([server(1), server(3)].map((s) => s.name).sort());
    },
  );

  // A write behind a runtime change that failed (a full disk) left the older file: HAProxy restarted
  // after a crash served it, and no snapshot saw the difference (found by an audit).
  test('a reload of the config on disk that holds another config than the last applied writes the last applied first', async () => {
    const { apply, applier, haproxy, files } = setup();
    const one = state([service('a', [server(1)])]);
    const two = state([service('a', [server(1), server(2), server(3)])]);
    await apply(one, null);
    expect((await apply(two, one)).reloaded).toBe(false); // runtime only: the file is written behind
    await files.written();
    fs.writeFileSync(configPath, files.of(one).config); // as if that write had failed
    await lastValueFrom(applier.reloadExisting({ kind: 'haproxy-restarted' }, two));
    expect(onDisk()).toBe(files.of(two).config);
    expect(haproxy.backends.get('a')!.size).toBe(3);
  });

  // A reload that killed the master: the apply's retry started HAProxy again, then the exit's restart
  // reloaded it, which killed it again, in a loop (16 crashes in 30 s; found by an audit).
  test('a restart after HAProxy exited is not done again when HAProxy was started meanwhile with the files on disk', async () => {
    const { apply, applier, haproxy } = setup();
    const one = state([service('a', [server(1)])]);
    await apply(one, null);
    const loads = (): number => haproxy.starts + haproxy.reloads;
    const before = loads();
    expect(await lastValueFrom(applier.reloadExisting({ kind: 'haproxy-restarted' }, one))).toEqual({
      reloaded: false,
      reasons: [],
      runtimeOps: 0,
    });
    expect(loads()).toBe(before);
    haproxy.alive = false; // it did exit, and nothing started it: started again
    expect((await lastValueFrom(applier.reloadExisting({ kind: 'haproxy-restarted' }, one))).reloaded).toBe(true);
    expect(haproxy.alive).toBe(true);
    // An operator's SIGUSR1 always reloads.
    expect((await lastValueFrom(applier.reloadExisting({ kind: 'sigusr1' }, one))).reloaded).toBe(true);
  });

  test('a check of the config on disk that could not run (the binary gone) is not called a refusal', async () => {
    let binaryGone = false;
    const { apply, applier } = setup({
      target: 'command',
      run: () => Promise.resolve({ code: 0, signal: null, output: '' }),
      pids: () => Promise.resolve(new Set<number>()),
      check: () =>
        binaryGone
          ? err({ message: 'cannot run /opt/lb/haproxy to check /x.cfg: ENOENT', refused: false })
          : ok(undefined),
    });
    await apply(state([service('a', [server(1)])]), null);
    binaryGone = true;
    await expect(lastValueFrom(applier.reloadExisting({ kind: 'haproxy-restarted' }, null))).rejects.toThrow(
      'restarting HAProxy: the config on disk could not be checked, not reloading: cannot run /opt/lb/haproxy to check /x.cfg: ENOENT',
    );
  });

  test('an app haproxy -c rejects is left out before the command runs (once)', async () => {
    let runs = 0;
    const { apply } = setup({
      target: 'command',
      run: () => {
        runs++;
        return Promise.resolve({ code: 0, signal: null, output: '' });
      },
      pids: () => Promise.resolve(new Set<number>()),
    });
    const r = await apply(state([service('bad', [server(1)]), service('a', [server(2)])]), null);
    expect(r.rejected?.map((x) => x.service.backend)).toEqual(['bad']);
    expect(runs).toBe(1);
    expect(onDisk()).not.toContain('bad');
  });
});
