import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import type { MarathonEvent } from '../marathon/eventTypes';
import { endsTask } from './fastApply';

/**
 * Lost is no end: Marathon takes a task lost with its agent (REASON_SLAVE_DISCONNECTED, …) for one
 * that may run again under its id once the agent registers again (an audit of this stage).
 */
const MAY_COME_BACK = 'TASK_LOST';

/**
 * Drops a status update of a task that an earlier one ended (all but TASK_LOST): a Mesos task that ended never runs again
 * (a restart is a new task id), so a later state of it is an event out of order. Applied by the fast
 * path, or replayed onto a snapshot, a killed task's server came back and took requests until a
 * later snapshot (an audit: through a 40 s outage of `/v2/apps`). `kept` task ids are remembered, the
 * newest ended: far more than end between two snapshots. `onDropped` is told the reason, for the log.
 */
export function withoutEndedTasks(
  kept: number,
  onDropped: (event: MarathonEvent, reason: string) => void,
): MonoTypeOperatorFunction<MarathonEvent> {
  return (events$) => {
    // Per subscription; insertion order is age (an id ended again is moved to the newest end).
    const ended = new Set<string>();
    return events$.pipe(
      filter((event) => {
        if (event.type !== 'status_update_event') return true;
        if (endsTask(event) && event.taskStatus !== MAY_COME_BACK) {
          ended.delete(event.taskId);
          ended.add(event.taskId);
          if (ended.size > kept) ended.delete(ended.values().next().value as string);
          return true;
        }
        if (!ended.has(event.taskId)) return true;
        onDropped(
          event,
          `app ${event.appId}: task ${event.taskId} ended before this ${event.taskStatus} (an event out of order): ignored`,
        );
        return false;
      }),
    );
  };
}
