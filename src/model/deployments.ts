import type { MarathonApp } from '../marathon/types';
import { APP_ID_RULE, isAppId } from './haproxyText';
import type { Problem } from './types';

type RoutedApp = MarathonApp;

/** The label that puts apps in one blue/green deployment group (routed under the group's id). */
export const GROUP = 'HAPROXY_DEPLOYMENT_GROUP';
const STARTED_AT = 'HAPROXY_DEPLOYMENT_STARTED_AT';

/**
 * marathon-lb's zero-downtime deployments (zdd.py): apps labelled with the same
 * HAPROXY_DEPLOYMENT_GROUP are served as one app whose id is the group. The older app's tasks are
 * listed first and as many of them are drained as the new app has healthy instances beyond the
 * target. Apps outside deployment groups keep their order and come first, as upstream. A group
 * name that cannot be an app id (it names HAProxy sections) leaves the app out, reported in `problems`.
 */
export function mergeDeployments(apps: readonly MarathonApp[], problems: Problem[] = []): RoutedApp[] {
  const plain: RoutedApp[] = [];
  const groups = new Map<string, RoutedApp>();
  for (const app of apps) {
    const label = app.labels[GROUP];
    if (label === undefined) {
      plain.push(app);
      continue;
    }
    const id = label.startsWith('/') ? label : `/${label}`;
    if (!isAppId(id)) {
      problems.push({
        appId: app.id,
        portIndex: null,
        label: GROUP,
        message: `value ${JSON.stringify(id.slice(0, 80))} must be an app id (${APP_ID_RULE})`,
      });
      continue;
    }
    const renamed: RoutedApp = { ...app, id };
    const prev = groups.get(id);
    groups.set(id, prev === undefined ? renamed : mergePair(prev, renamed, app));
  }
  return [...plain, ...groups.values()];
}

function mergePair(prev: RoutedApp, cur: RoutedApp, curOriginal: MarathonApp): RoutedApp {
  let [old, next] = startedAt(prev) < startedAt(cur) ? [prev, cur] : [cur, prev];
  let target = 1;
  if (next.labels['HAPROXY_DEPLOYMENT_NEW_INSTANCES'] !== undefined) {
    // Upstream compares the label string with 0, which is always true: it always checks scaling times.
    if (scaledAt(old) > scaledAt(next)) [old, next] = [next, old];
    target = parseInt(next.labels['HAPROXY_DEPLOYMENT_TARGET_INSTANCES'] ?? '', 10);
    if (Number.isNaN(target)) target = 0;
  }
  const oldTasks = [...old.tasks].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // Upstream looks at the health checks of the app being merged in, not of `next`.
  const healthyNew =
    (curOriginal.healthChecks?.length ?? 0) > 0
      ? next.tasks.filter((t) => t.healthCheckResults?.some((r) => r.alive === true) ?? false).length
      : (next.instances ?? 0);
  const drainable = Math.max(0, healthyNew + (old.instances ?? 0) - target);
  const drainCount = Math.min(oldTasks.length, healthyNew, drainable);
  const tasks = [...oldTasks.map((t, i) => (i < drainCount ? { ...t, draining: true } : t)), ...next.tasks];
  return { ...old, tasks };
}

function startedAt(app: RoutedApp): number {
  const label = app.labels[STARTED_AT];
  const t = label === undefined ? NaN : Date.parse(label);
  return Number.isNaN(t) ? -Infinity : t;
}

function scaledAt(app: RoutedApp): number {
  const t = Date.parse(app.versionInfo?.lastScalingAt ?? '');
  return Number.isNaN(t) ? -Infinity : t;
}
