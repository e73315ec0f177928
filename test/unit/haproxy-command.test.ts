import { haproxyPids, runShell } from '../../src/haproxy/command';
import type { ProcessInfo, ProcessTable } from '../../src/haproxy/leftover';
import { fakeClock } from '../../src/haproxy/clock';
import { withRetries, type LoadResult } from '../../src/haproxy/target';
import { err, ok } from '../../src/result';

const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

describe('--command helpers', () => {
  test('runShell: /bin/sh -c, exit code and output kept', async () => {
    expect(await runShell('echo out; echo err >&2; exit 3', process.env, 5000)).toEqual({
      code: 3,
      signal: null,
      output: 'out\nerr\n',
    });
  });
  test('runShell: a command that outlives its timeout is killed', async () => {
    expect(await runShell('sleep 5', process.env, 100)).toMatchObject({ code: null, signal: 'SIGKILL' });
  });
  test("haproxyPids: processes whose executable is named haproxy (marathon-lb's pidof haproxy), not zombies", async () => {
    const procs: ProcessInfo[] = [
      { pid: 10, ppid: 1, state: 'S', argv: ['/usr/sbin/haproxy', '-W', '-f', 'x'] },
      { pid: 11, ppid: 10, state: 'S', argv: ['haproxy', '-f', 'x'] },
      { pid: 12, ppid: 10, state: 'Z', argv: ['/usr/sbin/haproxy'] },
      { pid: 13, ppid: 1, state: 'S', argv: ['/usr/bin/haproxy-exporter'] },
      { pid: 14, ppid: 1, state: 'S', argv: ['node', 'haproxy'] },
    ];
    const table: ProcessTable = {
      pids: async () => procs.map((p) => p.pid),
      info: async (pid) => procs.find((p) => p.pid === pid),
      environ: async () => undefined,
    };
    expect([...(await haproxyPids(table))]).toEqual([10, 11]);
  });
});

describe('withRetries (--max-reload-retries, --reload-interval)', () => {
  const failing =
    (n: { tries: number }, refused = false) =>
    (): Promise<LoadResult> => {
      n.tries++;
      return Promise.resolve(err({ message: 'no', refused }));
    };
  const deps = (clock = fakeClock()) => ({ clock, logger: quiet, closed: () => false, what: 'reload' });
  test('0 retries: one try', async () => {
    const n = { tries: 0 };
    expect(await withRetries(failing(n), { retries: 0, intervalMs: 1000 }, deps())).toMatchObject({
      ok: false,
      error: { message: 'no' },
    });
    expect(n.tries).toBe(1);
  });
  test('n retries: n + 1 tries, the interval between them', async () => {
    const n = { tries: 0 };
    const clock = fakeClock();
    expect(await withRetries(failing(n), { retries: 3, intervalMs: 1000 }, deps(clock))).toMatchObject({
      error: { message: 'no (4 tries, --max-reload-retries 3)' },
    });
    expect(n.tries).toBe(4);
    expect(clock.slept).toEqual([1000, 1000, 1000]);
  });
  test('-1: until it works', async () => {
    let tries = 0;
    const r = await withRetries(
      () => Promise.resolve(++tries < 25 ? err({ message: 'no', refused: false }) : ok(undefined)),
      { retries: -1, intervalMs: 10 },
      deps(),
    );
    expect(r).toEqual(ok(undefined));
    expect(tries).toBe(25);
  });
  test('a refused config is not retried; a stopping controller stops retrying', async () => {
    const n = { tries: 0 };
    await withRetries(failing(n, true), { retries: 5, intervalMs: 10 }, deps());
    expect(n.tries).toBe(1);
    const m = { tries: 0 };
    await withRetries(failing(m), { retries: -1, intervalMs: 10 }, { ...deps(), closed: () => m.tries >= 2 });
    expect(m.tries).toBe(2);
  });
});

describe('runShell and daemons', () => {
  test('a command that leaves a background process holding its output still finishes (its exit decides)', async () => {
    const r = await runShell('(sleep 3 &) ; echo started', process.env, 10_000);
    expect(r).toMatchObject({ code: 0, output: 'started\n' });
  });
});
