import * as path from 'node:path';
import { Subject, asyncScheduler, type Subscription } from 'rxjs';
import type { Logger } from '../../src/log';
import type { AppliedState } from '../../src/reconcile/appliedState';
import type { ApplyPort } from '../../src/reconcile/applyPort';
import type { PipelineEvent } from '../../src/reconcile/pipeline';
import { configure, controllerStart } from '../../src/wiring/bootstrap';
import { REPO_ROOT } from './paths';

export interface LogLine {
  level: string;
  msg: string;
}

export function memoryLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (msg: string): void =>
      void lines.push({ level, msg });
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

export interface RunningController {
  readonly applied: AppliedState;
  readonly events: PipelineEvent[];
  readonly logs: LogLine[];
  readonly signals: Subject<'hup' | 'usr1'>;
  stop(): void;
}

/** Starts the real controller (real client, SSE, pipeline, real time) against Marathon URLs, with `haproxy` as its apply port. */
export function startController(argv: string[], haproxy: ApplyPort): RunningController {
  const logs: LogLine[] = [];
  const prepared = configure({
    from: { argv: [...argv, '--group', 'external', '--templates-dir', path.join(REPO_ROOT, 'no-templates')] },
    env: {},
    configDir: path.join(REPO_ROOT, 'config'),
    logger: () => memoryLogger(logs),
  });
  if (!prepared.ok) throw new Error(prepared.error);
  const events: PipelineEvent[] = [];
  const signals = new Subject<'hup' | 'usr1'>();
  const started = controllerStart(prepared.value, {
    haproxy,
    signals$: signals,
    scheduler: asyncScheduler,
    random: () => 0.5,
    observers: [(e) => events.push(e)],
  });
  if (!started.ok) throw new Error(started.error);
  const { run$, applied } = started.value;
  const sub: Subscription = run$.subscribe({ error: (e: unknown) => logs.push({ level: 'fatal', msg: String(e) }) });
  return { applied, events, logs, signals, stop: () => sub.unsubscribe() };
}

const OUTCOMES: readonly PipelineEvent['kind'][] = [
  'unchanged',
  'applied',
  'fetch-failed',
  'snapshot-invalid',
  'apply-failed',
];

/** Every trigger so far has been answered: a fetch began after the last one, and that fetch has an outcome. */
export function settled(events: readonly PipelineEvent[]): boolean {
  const lastIndex = (pred: (e: PipelineEvent) => boolean): number => events.map(pred).lastIndexOf(true);
  const fetching = lastIndex((e) => e.kind === 'fetching');
  return lastIndex((e) => e.kind === 'trigger') < fetching && fetching < lastIndex((e) => OUTCOMES.includes(e.kind));
}

/** The event stream is open and the snapshot its connection triggered has been answered (a marker before a change). */
export const connectedAndSettled = (events: readonly PipelineEvent[]): boolean =>
  events.some((e) => e.kind === 'trigger' && e.trigger.kind === 'connected') && settled(events);
