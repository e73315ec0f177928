import type { Scenario, Step } from './scenario';
import { Simulator } from './simulator';
import type { SimulatorOptions } from './simulator';
import type { TaskState } from './types';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});

/**
 * Plays a scenario's timeline on a running simulator with real timers (owned by the simulator, so
 * `sim.close()` cancels them; the returned function stops the timeline earlier). Steps run in order;
 * a failing step is reported through `report` and the timeline goes on.
 */
export function runTimeline(sim: Simulator, scenario: Scenario, report: (line: string) => void): () => void {
  const cancels: (() => void)[] = [];
  let stopped = false;
  const round = (): void => {
    cancels.length = 0;
    for (const step of scenario.timeline) {
      cancels.push(
        sim.schedule(step.atMs, () => {
          runStep(sim, step).then(
            (what) => report(`t+${step.atMs}ms ${what}`),
            (err: unknown) =>
              report(`t+${step.atMs}ms ${step.kind} failed: ${err instanceof Error ? err.message : String(err)}`),
          );
        }),
      );
    }
    if (scenario.repeatEveryMs !== undefined)
      cancels.push(sim.schedule(scenario.repeatEveryMs, () => !stopped && round()));
  };
  if (scenario.timeline.length > 0) round();
  return () => {
    stopped = true;
    for (const c of cancels) c();
  };
}

/** Runs one step; resolves with a short description of what happened. */
async function runStep(sim: Simulator, step: Step): Promise<string> {
  const a = obj(step.arg);
  switch (step.kind) {
    case 'scale':
      await sim.scale(String(a['app']), a['instances'] as number);
      return `scaled ${String(a['app'])} to ${String(a['instances'])}`;
    case 'createApp':
      await sim.createApp(step.arg);
      return `created ${String(a['id'])}`;
    case 'updateApp':
      await sim.updateApp(String(a['id']), step.arg);
      return `updated ${String(a['id'])}`;
    case 'deleteApp':
      await sim.deleteApp(String(typeof step.arg === 'string' ? step.arg : a['app']));
      return `deleted ${String(typeof step.arg === 'string' ? step.arg : a['app'])}`;
    case 'labels':
      await sim.setLabels(String(a['app']), obj(a['labels']) as Record<string, string | null>, {
        replace: a['replace'] === true,
      });
      return `set labels of ${String(a['app'])}`;
    case 'kill': {
      const task = taskOf(sim, a);
      await sim.killTask(task, { scale: a['scale'] === true });
      return `killed ${task}`;
    }
    case 'health': {
      const task = taskOf(sim, a);
      await sim.setHealth(task, a['alive'] === true);
      return `${task} is ${a['alive'] === true ? 'healthy' : 'unhealthy'}`;
    }
    case 'taskState': {
      const task = taskOf(sim, a);
      await sim.setTaskState(task, a['state'] as TaskState, { scale: a['scale'] === true });
      return `${task} is ${String(a['state'])}`;
    }
    case 'burst':
      return `burst of ${sim.burst(Number(a['count']), typeof a['type'] === 'string' ? a['type'] : undefined)} events`;
    case 'fault':
      return `fault ${JSON.stringify(sim.setFaults(step.arg))}`;
    case 'clearFaults':
      sim.clearFaults();
      return 'faults cleared';
    case 'expireTokens':
      sim.expireTokens();
      return 'tokens expired';
    case 'leader':
      sim.setLeader(
        typeof a['redirectTo'] === 'string'
          ? { redirectTo: a['redirectTo'], status: a['status'] === 302 ? 302 : 307 }
          : {},
      );
      return typeof a['redirectTo'] === 'string' ? `redirecting to ${a['redirectTo']}` : 'leader again';
  }
}

function taskOf(sim: Simulator, a: Json): string {
  if (typeof a['task'] === 'string') return a['task'];
  const tasks = sim.tasksOf(String(a['app']));
  const i = typeof a['index'] === 'number' ? a['index'] : 0;
  const task = tasks[i < 0 ? tasks.length + i : i];
  if (!task) throw new Error(`app ${String(a['app'])} has no task at index ${i} (it has ${tasks.length})`);
  return task.id;
}

/** Starts a simulator with a scenario's apps and plays its timeline (stopped by `sim.close()`). */
export async function startScenario(
  scenario: Scenario,
  options: SimulatorOptions,
  report: (line: string) => void = () => undefined,
): Promise<Simulator> {
  const sim = await Simulator.start({
    ...options,
    serveTasks: options.serveTasks ?? scenario.serveTasks,
    apps: [...scenario.apps, ...(options.apps ?? [])],
  });
  runTimeline(sim, scenario, report);
  return sim;
}
