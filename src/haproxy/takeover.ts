/**
 * One HAProxy, always: before this controller starts HAProxy, a master left by an earlier one is
 * adopted or stopped, so two masters never share the ports (SO_REUSEPORT would let both bind, and
 * stale copies would answer).
 *
 * Adopted — it keeps serving through the controller restart, zero downtime; the first apply then
 * reloads it with the new config, unless it runs that very config already (servedMark.ts) — when
 * it answers on our master socket and runs exactly as we
 * would start it: same command line, same environment (so no secret of an older controller stays
 * in it, and an operator's changed variables are not ignored). The master on our socket that runs
 * otherwise (another command line or environment) serves on until the first load, which stops it
 * once the new config is written and checked and starts HAProxy afresh (owned.ts). Any other master
 * of ours (a second copy, one whose socket is gone) is stopped: SIGUSR1, then SIGTERM, then SIGKILL,
 * each with a bounded wait, its workers killed with it. An HAProxy on our config that no controller
 * started (the distribution's service) is neither: the start is refused, naming it.
 */
import { readIfExists } from './files';
import {
  childrenOf,
  environmentDifference,
  findMasters,
  isOurHaproxy,
  isRunning,
  procTable,
  type HaproxyIdentity,
  type ProcessTable,
} from './leftover';
import { type HaproxyLogger } from './masterSocket';
import { type Result, err, ok } from '../result';
import type { HaproxyProcess } from './process';

export type Takeover =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'adopted';
      readonly masterPid: number;
      readonly stopped: readonly number[];
      /** It may not be reloaded as it is: it serves until the first load stops it and starts HAProxy afresh. */
      readonly replace: boolean;
    }
  | { readonly kind: 'stopped'; readonly stopped: readonly number[] };

export interface TakeoverOptions {
  readonly haproxy: HaproxyProcess;
  readonly configPath: string;
  readonly masterSocketPath: string;
  readonly pidFile: string;
  /** The environment HAProxy would be started with. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: HaproxyLogger;
  /** Waits after SIGUSR1, SIGTERM, SIGKILL. */
  readonly waitsMs: { readonly soft: number; readonly term: number; readonly kill: number };
  readonly table?: ProcessTable;
  readonly pollMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function takeOverLeftovers(o: TakeoverOptions): Promise<Result<Takeover>> {
  const table = o.table ?? procTable;
  const pidText = (await readIfExists(o.pidFile).catch(() => undefined))?.trim();
  const pidFilePid = pidText !== undefined && /^\d+$/.test(pidText) ? Number(pidText) : undefined;
  const proc = await o.haproxy.master.showProc();
  const socketMasterPid = proc.ok ? proc.value.master.pid : undefined;
  const found = await findMasters(table, identity(o), { pidFilePid, socketMasterPid, self: process.pid });
  for (const why of found.rejected) o.logger.warn(`haproxy: ${why}`);
  // Started beside it, ours would share its ports (SO_REUSEPORT) and the two would split the traffic.
  if (found.strangers.length > 0)
    return err(
      `${found.strangers.join(', ')} runs ${o.configPath} but was not started by marathon-lb (the distribution's haproxy service?): stop it for good (systemctl disable --now haproxy) to let this controller own HAProxy, or keep it and pass --command 'systemctl reload haproxy'`,
    );
  if (found.masters.length === 0) return ok({ kind: 'none' });

  let adopt: number | undefined;
  let replace = false;
  if (
    socketMasterPid !== undefined &&
    found.masters.includes(socketMasterPid) &&
    (await table.info(socketMasterPid)) !== undefined
  ) {
    // One that may not be reloaded as it is still serves until the new config is written and
    // checked: stopped now, a full disk or a config haproxy -c refuses left no HAProxy at all.
    const why = await whyNotAdopt(table, o, socketMasterPid);
    adopt = socketMasterPid;
    replace = why !== undefined;
    if (replace)
      o.logger.warn(
        `haproxy: not keeping the HAProxy master ${socketMasterPid} left by an earlier controller: ${why}; it serves until the new config is ready, then is replaced`,
      );
  }
  const stopped: number[] = [];
  for (const pid of found.masters.filter((p) => p !== adopt)) {
    o.logger.warn(`haproxy: stopping HAProxy master ${pid} left by an earlier controller`);
    const r = await stopMaster(table, pid, o);
    if (!r.ok) return r;
    stopped.push(pid);
  }
  if (adopt === undefined) return ok({ kind: 'stopped', stopped });
  const attached = await o.haproxy.attach({ local: true });
  if (!attached.ok) return err(`cannot adopt the HAProxy master ${adopt}: ${attached.error.message}`);
  if (attached.value.masterPid !== adopt)
    return err(
      `the master socket changed hands while adopting HAProxy master ${adopt} (now ${attached.value.masterPid})`,
    );
  if (!replace)
    o.logger.info(
      `haproxy: adopted the HAProxy master ${adopt} left by an earlier controller: it keeps serving until the first apply reloads it`,
    );
  return ok({ kind: 'adopted', masterPid: adopt, stopped, replace });
}

/** What marks an HAProxy as started by a controller like this one: its files, and the binary it runs. */
const identity = (o: TakeoverOptions): HaproxyIdentity => ({
  configPath: o.configPath,
  masterSocketPath: o.masterSocketPath,
  pidFile: o.pidFile,
  binary: o.haproxy.commandLine()[0],
});

async function whyNotAdopt(table: ProcessTable, o: TakeoverOptions, pid: number): Promise<string | undefined> {
  const info = await table.info(pid);
  if (info === undefined) return 'it is gone';
  // The binary too: a master re-executes its own argv[0] at each reload, so one started from another
  // --haproxy-bin would run that binary for good.
  const want = o.haproxy.commandLine();
  if (info.argv.join('\0') !== want.join('\0')) return `its command line differs (${info.argv.join(' ')})`;
  const env = await table.environ(pid);
  if (env === undefined) return 'its environment cannot be read';
  const diff = environmentDifference(env, o.env);
  if (diff.length > 0)
    return `its environment differs in ${diff.slice(0, 10).join(', ')}${diff.length > 10 ? ', …' : ''}`;
  return undefined;
}

/** SIGUSR1, SIGTERM, SIGKILL with bounded waits; the master's workers are SIGKILLed if still there. */
async function stopMaster(table: ProcessTable, pid: number, o: TakeoverOptions): Promise<Result<void>> {
  const workers = await childrenOf(table, pid);
  const steps: ReadonlyArray<readonly [NodeJS.Signals, number]> = [
    ['SIGUSR1', o.waitsMs.soft],
    ['SIGTERM', o.waitsMs.term],
    ['SIGKILL', o.waitsMs.kill],
  ];
  let gone = false;
  for (const [signal, ms] of steps) {
    if (!signalPid(pid, signal)) {
      gone = !(await isRunning(table, pid));
      if (!gone)
        return err(
          `cannot signal the HAProxy master ${pid} left by an earlier controller (not ours to signal?): refusing to start a second HAProxy`,
        );
      break;
    }
    const deadline = Date.now() + ms;
    while (!(gone = !(await isRunning(table, pid))) && Date.now() < deadline) await sleep(o.pollMs ?? 50);
    if (gone) break;
  }
  if (!gone)
    return err(
      `the HAProxy master ${pid} left by an earlier controller is still running after SIGKILL: refusing to start a second HAProxy`,
    );
  for (const w of workers) {
    const info = await table.info(w); // still one of ours, not a reused pid
    if (info !== undefined && info.state !== 'Z' && isOurHaproxy(info, identity(o))) signalPid(w, 'SIGKILL');
  }
  return ok(undefined);
}

function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
