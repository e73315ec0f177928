import * as path from 'node:path';
import { Subject, asyncScheduler } from 'rxjs';
import { ControllerMetrics } from '../../src/admin/metrics';
import { startAdminServer, type AdminServer } from '../../src/admin/server';
import { StatusBook } from '../../src/admin/statusBook';
import { parseArgs } from '../../src/cli/args';
import { createController } from '../../src/controller';
import { marathonClientFromOptions } from '../../src/wiring/parts';
import { loadTemplateSet } from '../../src/render/loadTemplates';
import type { AppliedState } from '../../src/streams/appliedState';
import type { PipelineEvent } from '../../src/streams/pipeline';
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
export async function startStack(argv: string[], haproxy: RecordingHaproxy, cleanup: (() => unknown)[]): Promise<Stack> {
  const parsed = parseArgs([...argv, '--group', 'external', '--templates-dir', path.join(REPO_ROOT, 'no-templates')], {});
  if (parsed.kind !== 'ok') throw new Error(parsed.kind === 'error' ? parsed.message : 'help');
  const o = parsed.options;
  const logs: LogLine[] = [];
  const logger = memoryLogger(logs);
  const client = marathonClientFromOptions(o, logger);
  if ('error' in client) throw new Error(client.error);
  const templates = loadTemplateSet(path.join(REPO_ROOT, 'config'), {}, o.templatesDir);
  if (!templates.ok) throw new Error(templates.error);
  const now = (): number => asyncScheduler.now();
  const metrics = new ControllerMetrics({ now, haproxyWorkers: () => Promise.resolve(1) });
  const events: PipelineEvent[] = [];
  let book: StatusBook | undefined;
  const signals = new Subject<'hup' | 'usr1'>();
  const { run$, applied } = createController({
    options: o, env: {}, client, templates: templates.value, haproxy, signals$: signals, logger, scheduler: asyncScheduler, random: () => 0.5,
    observers: [(e) => events.push(e), (e) => metrics.observe(e), (e) => book?.observe(e)],
  });
  book = new StatusBook({ applied, now });
  const admin = await startAdminServer({ bind: o.adminBind, port: o.adminPort, token: o.adminToken, metrics, status: book, logger });
  cleanup.push(() => admin.close());
  const sub = run$.subscribe({ error: (e: unknown) => logs.push({ level: 'fatal', msg: String(e) }) });
  cleanup.push(() => sub.unsubscribe());
  return { applied, events, logs, signals, metrics, admin };
}

