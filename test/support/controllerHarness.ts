import * as path from 'node:path';
import { Subject, asyncScheduler, type Subscription } from 'rxjs';
import { parseArgs } from '../../src/cli/args';
import { createController } from '../../src/controller';
import type { Logger } from '../../src/log';
import { marathonClientFromOptions } from '../../src/wiring/parts';
import { loadTemplateSet } from '../../src/render/loadTemplates';
import type { AppliedState } from '../../src/streams/appliedState';
import type { ApplyPort } from '../../src/streams/applyPort';
import type { PipelineEvent } from '../../src/streams/pipeline';
import { REPO_ROOT } from './paths';

export interface LogLine { level: string; msg: string }

export function memoryLogger(lines: LogLine[]): Logger {
  const at = (level: string) => (msg: string): void => void lines.push({ level, msg });
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
  const parsed = parseArgs([...argv, '--group', 'external', '--templates-dir', path.join(REPO_ROOT, 'no-templates')], {});
  if (parsed.kind !== 'ok') throw new Error(parsed.kind === 'error' ? parsed.message : 'help');
  const logs: LogLine[] = [];
  const logger = memoryLogger(logs);
  const client = marathonClientFromOptions(parsed.options, logger);
  if ('error' in client) throw new Error(client.error);
  const templates = loadTemplateSet(path.join(REPO_ROOT, 'config'), {}, parsed.options.templatesDir);
  if (!templates.ok) throw new Error(templates.error);
  const events: PipelineEvent[] = [];
  const signals = new Subject<'hup' | 'usr1'>();
  const { run$, applied } = createController({
    options: parsed.options, env: {}, client, templates: templates.value, haproxy, signals$: signals, logger,
    scheduler: asyncScheduler, random: () => 0.5, observers: [(e) => events.push(e)],
  });
  const sub: Subscription = run$.subscribe({ error: (e: unknown) => logs.push({ level: 'fatal', msg: String(e) }) });
  return { applied, events, logs, signals, stop: () => sub.unsubscribe() };
}
