import * as path from 'node:path';
import { Subject, asyncScheduler } from 'rxjs';
import { ControllerMetrics } from '../../src/admin/metrics';
import { startAdminServer, type AdminServer } from '../../src/admin/server';
import { StatusBook } from '../../src/admin/statusBook';
import type { AppliedState } from '../../src/reconcile/appliedState';
import type { PipelineEvent } from '../../src/reconcile/pipeline';
import { configure, controllerStart } from '../../src/wiring/bootstrap';
import { memoryLogger, type LogLine } from './controllerHarness';
import { REPO_ROOT } from './paths';
import type { RecordingHaproxy } from './recordingHaproxy';

export interface Stack {
  readonly applied: AppliedState;
  readonly events: PipelineEvent[];
  readonly logs: LogLine[];
  readonly signals: Subject<'hup' | 'usr1'>;
  readonly metrics: ControllerMetrics;
  readonly admin: AdminServer;
}

/** The real controller (simulator, SSE, pipeline, real time) with its admin API, wired as main.ts would, flags included. */
export async function startStack(
  argv: string[],
  haproxy: RecordingHaproxy,
  cleanup: (() => unknown)[],
): Promise<Stack> {
  const logs: LogLine[] = [];
  const prepared = configure({
    from: { argv: [...argv, '--group', 'external', '--templates-dir', path.join(REPO_ROOT, 'no-templates')] },
    env: {},
    configDir: path.join(REPO_ROOT, 'config'),
    logger: () => memoryLogger(logs),
  });
  if (!prepared.ok) throw new Error(prepared.error);
  const { options: o, logger } = prepared.value;
  const now = (): number => asyncScheduler.now();
  const metrics = new ControllerMetrics({ now, haproxyWorkers: () => Promise.resolve(1) });
  const events: PipelineEvent[] = [];
  let book: StatusBook | undefined;
  const signals = new Subject<'hup' | 'usr1'>();
  const started = controllerStart(prepared.value, {
    haproxy,
    signals$: signals,
    scheduler: asyncScheduler,
    random: () => 0.5,
    observers: [(e) => events.push(e), (e) => metrics.observe(e), (e) => book?.observe(e)],
  });
  if (!started.ok) throw new Error(started.error);
  const { run$, applied } = started.value;
  book = new StatusBook({ applied, now });
  const admin = await startAdminServer({
    bind: o.adminBind,
    port: o.adminPort,
    token: o.adminToken,
    metrics,
    status: book,
    logger,
  });
  cleanup.push(() => admin.close());
  const sub = run$.subscribe({ error: (e: unknown) => logs.push({ level: 'fatal', msg: String(e) }) });
  cleanup.push(() => sub.unsubscribe());
  return { applied, events, logs, signals, metrics, admin };
}

/**
 * An admin API with no data behind it (empty metrics and status), for tests of its other routes:
 * `signals` records what `POST /_mlb_signal/*` asks (absent: no signal handler, the routes 404).
 */
export function startStubAdmin(
  opts: { readonly token?: string; readonly signals?: string[] } = {},
): Promise<AdminServer> {
  const { signals } = opts;
  return startAdminServer({
    port: 0,
    ...(opts.token === undefined ? {} : { token: opts.token }),
    metrics: { contentType: 'text/plain', text: () => Promise.resolve('') },
    status: { status: () => ({}), version: () => 0 },
    logger: memoryLogger([]),
    ...(signals === undefined ? {} : { signal: (sig: 'hup' | 'usr1') => void signals.push(sig) }),
  });
}
