/**
 * The health gate: before an apply is committed, HAProxy proves it runs the new state — a worker
 * answers, every backend of the state is there (after a reload), and the servers the runtime update
 * added or removed are (or are no longer) listed.
 */
import type { DesiredState } from '../reconcile/applyPort';
import type { RuntimeOp } from '../reconcile/plan';
import { type CommandChannel, type ProcList } from './masterSocket';
import { type Result, err, ok } from '../result';
import { RuntimeApi } from './runtimeApi';

export interface GateProbe {
  showProc(): Promise<Result<ProcList>>;
  /** The current worker's stats socket. */
  readonly worker: CommandChannel;
  /** Told when the new worker's listeners had to be resumed. */
  readonly warn?: (message: string) => void;
}

export async function healthGate(
  probe: GateProbe,
  next: DesiredState,
  ops: readonly RuntimeOp[],
): Promise<Result<void>> {
  const proc = await probe.showProc();
  if (!proc.ok || proc.value.workers.length === 0)
    return err(`health gate: no HAProxy worker answers (${proc.ok ? 'no worker' : proc.error})`);
  const api = new RuntimeApi({
    channel: probe.worker,
    logger: { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} },
  });
  if (ops.length > 0) return serversChanged(api, ops);
  const backends = await api.showBackends();
  if (!backends.ok) return err(`health gate: the stats socket does not answer: ${backends.error}`);
  const have = new Set(backends.value);
  const missing = next.model.services.filter((s) => !have.has(s.backend)).map((s) => s.backend);
  if (missing.length > 0) return err(`health gate: HAProxy does not run backend(s) ${missing.slice(0, 5).join(', ')}`);
  return listening(api, probe.warn);
}

/**
 * After a reload: no listener of the new worker is paused. HAProxy 2.6.12 started a worker with all
 * of them paused: a port the new config binds was held by another process, which let go while the
 * reload retried (HAProxy pauses the old worker's listeners to retry a bind); the new worker then
 * logged "Paused frontend …" for each of its own, with no resume after. Every port refused
 * connections while HAProxy said "Loading success" and the old worker exited (found by an attack).
 * Resumed here (`enable frontend`), and said; a gate failure if they stay paused.
 */
async function listening(api: RuntimeApi, warn?: (message: string) => void): Promise<Result<void>> {
  const paused = await api.pausedFrontends();
  if (!paused.ok) return err(`health gate: the stats socket does not answer: ${paused.error}`);
  if (paused.value.length === 0) return ok(undefined);
  const named = `${paused.value.slice(0, 5).join(', ')}${paused.value.length > 5 ? ` and ${paused.value.length - 5} more` : ''}`;
  const resumed = await api.resumeFrontends(paused.value);
  if (!resumed.ok) return err(`health gate: the new worker's listeners are paused (${named}): ${resumed.error}`);
  const still = await api.pausedFrontends();
  if (!still.ok) return err(`health gate: the stats socket does not answer: ${still.error}`);
  if (still.value.length > 0)
    return err(`health gate: the new worker's listeners stay paused (${still.value.slice(0, 5).join(', ')})`);
  warn?.(`HAProxy's new worker started with its listeners paused (${named}): resumed them`);
  return ok(undefined);
}

/**
 * After runtime ops (no backend came or went): the servers of the backends they touched, asked
 * backend by backend — the whole `show servers state` of 10 000 backends takes seconds.
 */
async function serversChanged(api: RuntimeApi, ops: readonly RuntimeOp[]): Promise<Result<void>> {
  const servers = new Map<string, ReadonlySet<string>>();
  for (const backend of new Set(ops.map((op) => op.backend))) {
    const names = await api.serverNames(backend);
    if (!names.ok) return err(`health gate: ${names.error}`);
    servers.set(backend, names.value);
  }
  for (const op of ops) {
    const present = servers.get(op.backend)?.has(op.server.name) === true;
    if (op.kind === 'add-server' && !present) return err(`health gate: ${op.backend}/${op.server.name} was not added`);
    if (op.kind === 'remove-server' && present)
      return err(`health gate: ${op.backend}/${op.server.name} is still there`);
  }
  return ok(undefined);
}
