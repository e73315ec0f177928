import * as ev from './events';
import type { SimEvent, SimState } from './types';

export const BURST_TYPES = [
  'status_update_event',
  'health_status_changed_event',
  'api_post_event',
  'deployment_success',
] as const;
export type BurstType = (typeof BURST_TYPES)[number];
export const MAX_BURST = 100_000;

/**
 * `count` events of one type that describe the current state again (round-robin over tasks/apps), so a
 * controller that re-reads `/v2/apps` after them sees nothing new: pure event load, no state change.
 * With no app/task to talk about, events name the placeholder app `/sim-burst`.
 */
export function burstEvents(state: SimState, count: number, type: BurstType, now: string): SimEvent[] {
  const tasks = state.apps.flatMap((a) => a.tasks);
  const checked = tasks.filter((t) => t.alive !== null);
  const out: SimEvent[] = [];
  for (let i = 0; i < count; i++) {
    switch (type) {
      case 'status_update_event': {
        const t = tasks[i % Math.max(1, tasks.length)];
        out.push(
          t
            ? ev.statusUpdateEvent(t, t.state, now)
            : placeholder(type, now, { taskId: `sim-burst.${i}`, taskStatus: 'TASK_RUNNING' }),
        );
        break;
      }
      case 'health_status_changed_event': {
        const t = checked[i % Math.max(1, checked.length)];
        out.push(
          t
            ? ev.healthStatusChangedEvent(t, t.alive === true, now)
            : placeholder(type, now, { taskId: `sim-burst.${i}`, alive: true }),
        );
        break;
      }
      case 'api_post_event': {
        const a = state.apps[i % Math.max(1, state.apps.length)];
        out.push(a ? ev.apiPostEvent(a.def, now) : placeholder(type, now, { uri: '/v2/apps/sim-burst' }));
        break;
      }
      case 'deployment_success': {
        const a = state.apps[i % Math.max(1, state.apps.length)];
        out.push(
          ev.deploymentEvents(`sim-burst-${i}`, a?.def.id ?? '/sim-burst', 'ScaleApplication', now, now).success,
        );
        break;
      }
    }
  }
  return out;
}

const placeholder = (eventType: string, timestamp: string, extra: Record<string, unknown>): SimEvent => ({
  appId: '/sim-burst',
  ...extra,
  eventType,
  timestamp,
});
