import { sameData } from '../model/equality';
import type { ApiPostEvent } from '../marathon/eventTypes';
import { GROUP } from '../model/deployments';
import type { MarathonApp } from '../marathon/types';
import { routedApp } from '../marathon/routedFields';
import { appIn } from './fastApply';

/**
 * Fields an app definition gains in `/v2/apps?embed=apps.tasks`, or that a scale changes, and that
 * routing does not read — outside deployment groups (which drain by `instances`) and readiness
 * (which compares task and app `version`), both of which always go to the snapshot.
 */
const NOT_ROUTED = new Set([
  'instances',
  'version',
  'versionInfo',
  'tasks',
  'tasksStaged',
  'tasksRunning',
  'tasksHealthy',
  'tasksUnhealthy',
  'deployments',
  'lastTaskFailure',
  'readinessCheckResults',
  'taskStats',
]);

/**
 * Whether an app definition posted to Marathon can change routing, so a snapshot must be read: true
 * unless the app is in the last applied snapshot and the definition differs from it only in fields
 * routing does not read (a scale: `instances` and versions). Its tasks come and go as task events,
 * which the fast path applies; a snapshot per scale would re-read the whole cluster for nothing
 * (seconds at 10 000 apps). Anything unknown, missing or different among the fields routing reads
 * (routedFields.ts) counts as a change; a new command or environment restarts tasks, which come as
 * task events.
 */
export function postChangesRouting(
  event: ApiPostEvent,
  applied: readonly MarathonApp[] | undefined,
  respectReadinessChecks: boolean,
): boolean {
  const def = event.appDefinition;
  if (def === undefined || event.appId === undefined || applied === undefined || respectReadinessChecks) return true;
  const app = appIn(applied, event.appId);
  if (app === undefined || app.labels[GROUP] !== undefined) return true;
  // The applied apps hold only what routing reads (routedFields.ts): so is the definition compared.
  try {
    const posted = routedApp(def) as Readonly<Record<string, unknown>>;
    const was = app as Readonly<Record<string, unknown>>;
    for (const key of new Set([...Object.keys(posted), ...Object.keys(was)])) {
      if (!NOT_ROUTED.has(key) && !sameData(posted[key], was[key])) return true;
    }
    return false;
  } catch {
    // A definition nested past the stack (the comparison recurses): the snapshot decides.
    return true;
  }
}
