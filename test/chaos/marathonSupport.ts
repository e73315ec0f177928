/** Shared by the Marathon chaos tests: a steady client through HAProxy, and waiting for one task to answer. */
import { httpGet } from '../../src/demo/live';

export interface Tally {
  readonly ok: number;
  readonly failed: number;
  /** The first few failures, for the assertion message. */
  readonly failures: readonly string[];
}

export interface SteadyClient {
  tally(): Tally;
  /** Stops the loop and waits for the request in flight. */
  stop(): Promise<Tally>;
}

/**
 * One request at a time over a fresh connection to HAProxy's :80 with `host`, every `pauseMs`,
 * until stopped — bounded by `maxMs` and by `maxRequests`. Any non-200 answer or error is a failure.
 */
export function steadyClient(
  port: number,
  host: string,
  opts: { pauseMs?: number; maxMs?: number; maxRequests?: number } = {},
): SteadyClient {
  const { pauseMs = 20, maxMs = 120_000, maxRequests = 100_000 } = opts;
  let ok = 0;
  let failed = 0;
  const failures: string[] = [];
  let stopped = false;
  const deadline = Date.now() + maxMs;
  const fail = (why: string): void => {
    failed++;
    if (failures.length < 10) failures.push(why);
  };
  const loop = (async () => {
    while (!stopped && Date.now() < deadline && ok + failed < maxRequests) {
      try {
        const a = await httpGet(port, host, 3000);
        if (a.status === 200) ok++;
        else fail(`HTTP ${a.status}`);
      } catch (e) {
        fail((e as Error).message);
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  const tally = (): Tally => ({ ok, failed, failures: [...failures] });
  return {
    tally,
    stop: async () => {
      stopped = true;
      await loop;
      return tally();
    },
  };
}

const taskOf = (body: string): string | null => {
  try {
    return (JSON.parse(body) as { task?: string }).task ?? null;
  } catch {
    return null;
  }
};

/** Resolves once `task` answers through HAProxy for `host`; rejects after `timeoutMs`. Returns the ms it took. */
export async function taskAnswers(port: number, host: string, task: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    const a = await httpGet(port, host, 2000).catch(() => undefined);
    if (a?.status === 200 && taskOf(a.body) === task) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`task ${task} did not answer through HAProxy for ${host} within ${timeoutMs} ms`);
}

/** GET on the admin API: status and body. */
export async function admin(url: string, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`${url}${path}`);
  return { status: r.status, body: await r.text() };
}
