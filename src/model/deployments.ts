import type { MarathonApp, MarathonTask } from '../marathon/types';
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
 * `memberIds` gets each merged app's member app ids, so that its problems can name them.
 */
export function mergeDeployments(
  apps: readonly MarathonApp[],
  problems: Problem[] = [],
  memberIds?: Map<MarathonApp, readonly string[]>,
): RoutedApp[] {
  const plain: RoutedApp[] = [];
  const groups = new Map<string, GroupMember[]>();
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
    const members = groups.get(id);
    const member = { renamed: { ...app, id }, original: app };
    if (members === undefined) groups.set(id, [member]);
    else members.push(member);
  }
  const merged = [...groups.values()].map((group) => {
    const app = foldGroup(group);
    memberIds?.set(
      app,
      group.map((m) => m.original.id),
    );
    return app;
  });
  return [...plain, ...merged];
}

export interface GroupMember {
  readonly renamed: RoutedApp;
  readonly original: MarathonApp;
}

/**
 * A group's apps merged in order, to the app upstream's pair-by-pair merge (mergePair) gives. With
 * distinct task ids, through foldMany, which does not sort and copy every task gathered so far at each
 * step: 20 000 apps of one task in one group took 6.7–28 s of one uninterrupted turn.
 */
function foldGroup(members: readonly GroupMember[]): RoutedApp {
  return distinctTaskIds(members) ? foldMany(members) : foldPairwise(members);
}

/** Upstream's way: mergePair over the group's apps in order (foldMany is tested against it). */
export function foldPairwise(members: readonly GroupMember[]): RoutedApp {
  let merged = members[0]!.renamed;
  for (let i = 1; i < members.length; i++) merged = mergePair(merged, members[i]!.renamed, members[i]!.original);
  return merged;
}

function distinctTaskIds(members: readonly GroupMember[]): boolean {
  const ids = new Set<string>();
  let count = 0;
  for (const m of members) {
    for (const t of m.renamed.tasks) ids.add(t.id);
    count += m.renamed.tasks.length;
  }
  return ids.size === count;
}

const alive = (t: MarathonTask): boolean => t.healthCheckResults?.some((r) => r.alive === true) ?? false;
const byId = (a: MarathonTask, b: MarathonTask): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A task of foldMany: where it goes in the merged app's list is decided at the end. */
interface Gathered {
  task: MarathonTask;
  /** Merges of the first kind (the gathered app is the older) before this task came. */
  readonly epoch: number;
  /** Came first in a merge of the second kind (its app is the older), in the `prepended`-th of them. */
  readonly prepended: number;
  readonly seq: number;
}

/**
 * mergePair folded over a group's apps with distinct task ids, to the same app. A merge where the
 * gathered app is the older sorts all gathered tasks by id, drains the first ones, and appends the
 * newer app's tasks; one where the newer app is the older puts its own sorted tasks first. So the
 * merged list is: the tasks put first since the last merge of the first kind (latest first), then
 * every task gathered before that merge, by id, then the tasks it appended. Tasks are kept by id as
 * they come, so draining the first ones walks only those.
 */
function foldMany(members: readonly GroupMember[]): RoutedApp {
  let fields = members[0]!.renamed;
  const byTaskId: Gathered[] = []; // every gathered task, by id
  const all: Gathered[] = [];
  let epoch = 0;
  let prepends = 0;
  let aliveCount = 0;
  const gather = (task: MarathonTask, prepended: number): void => {
    const g: Gathered = { task, epoch, prepended, seq: all.length };
    let lo = 0;
    let hi = byTaskId.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byTaskId[mid]!.task.id < task.id) lo = mid + 1;
      else hi = mid;
    }
    byTaskId.splice(lo, 0, g);
    all.push(g);
    if (alive(task)) aliveCount++;
  };
  for (const t of fields.tasks) gather(t, 0);

  for (let i = 1; i < members.length; i++) {
    const cur = members[i]!.renamed;
    let gatheredIsOld = startedAt(fields) < startedAt(cur);
    let target = 1;
    const next = gatheredIsOld ? cur : fields;
    if (next.labels['HAPROXY_DEPLOYMENT_NEW_INSTANCES'] !== undefined) {
      const old = gatheredIsOld ? fields : cur;
      if (scaledAt(old) > scaledAt(next)) gatheredIsOld = !gatheredIsOld;
      target = parseInt((gatheredIsOld ? cur : fields).labels['HAPROXY_DEPLOYMENT_TARGET_INSTANCES'] ?? '', 10);
      if (Number.isNaN(target)) target = 0;
    }
    const checked = (members[i]!.original.healthChecks?.length ?? 0) > 0;
    if (gatheredIsOld) {
      const healthyNew = checked ? cur.tasks.filter(alive).length : (cur.instances ?? 0);
      const drainable = Math.max(0, healthyNew + (fields.instances ?? 0) - target);
      const drainCount = Math.min(byTaskId.length, healthyNew, drainable);
      for (let k = 0; k < drainCount; k++) byTaskId[k]!.task = { ...byTaskId[k]!.task, draining: true };
      epoch++;
      for (const t of cur.tasks) gather(t, 0);
    } else {
      const healthyNew = checked ? aliveCount : (fields.instances ?? 0);
      const drainable = Math.max(0, healthyNew + (cur.instances ?? 0) - target);
      const own = [...cur.tasks].sort(byId);
      const drainCount = Math.min(own.length, healthyNew, drainable);
      prepends++;
      own.forEach((t, k) => gather(k < drainCount ? { ...t, draining: true } : t, prepends));
      fields = cur;
    }
  }

  const sinceLast = all.filter((g) => g.epoch === epoch);
  const first = sinceLast.filter((g) => g.prepended > 0).sort((a, b) => b.prepended - a.prepended || a.seq - b.seq);
  const before = byTaskId.filter((g) => g.epoch < epoch);
  const appended = sinceLast.filter((g) => g.prepended === 0);
  return { ...fields, tasks: [...first, ...before, ...appended].map((g) => g.task) };
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
  const oldTasks = [...old.tasks].sort(byId);
  // Upstream looks at the health checks of the app being merged in, not of `next`.
  const healthyNew =
    (curOriginal.healthChecks?.length ?? 0) > 0 ? next.tasks.filter(alive).length : (next.instances ?? 0);
  const drainable = Math.max(0, healthyNew + (old.instances ?? 0) - target);
  const drainCount = Math.min(oldTasks.length, healthyNew, drainable);
  const tasks = [...oldTasks.map((t, i) => (i < drainCount ? { ...t, draining: true } : t)), ...next.tasks];
  return { ...old, tasks };
}

function startedAt(app: RoutedApp): number {
  const label = app.labels[STARTED_AT];
  return label === undefined ? -Infinity : instant(label);
}

function scaledAt(app: RoutedApp): number {
  return instant(app.versionInfo?.lastScalingAt ?? '');
}

/** ISO 8601, extended or basic (`2024-01-02T03:04:05.000100`, `20240102T030405`), date only or with a time and zone. */
const ISO_8601 =
  /^\s*(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$/i;

/**
 * A time stamp as microseconds, the way upstream's dateutil compares them: whatever the time zone
 * this process runs in (a time without a zone is read as UTC, not as local time), to the
 * microsecond zdd.py writes (`datetime.now().isoformat()`), compact forms included. -Infinity when
 * it cannot be read (upstream fails the whole update there; here it counts as never started).
 */
export function instant(text: string): number {
  const m = ISO_8601.exec(text);
  if (m === null) {
    const t = Date.parse(text); // other forms dateutil reads ("Jan 2 2024"): best effort
    return Number.isNaN(t) ? -Infinity : t * 1000;
  }
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone = 'Z'] = m;
  const [mo, d, h, mi, sec] = [month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 60) return -Infinity;
  const zoneDigits = zone.replace(':', '');
  const offsetMinutes =
    zone.toUpperCase() === 'Z'
      ? 0
      : (zone[0] === '-' ? -1 : 1) * (Number(zoneDigits.slice(1, 3)) * 60 + Number(zoneDigits.slice(3, 5) || 0));
  const ms = Date.UTC(Number(year), mo - 1, d, h, mi, sec) - offsetMinutes * 60_000;
  return ms * 1000 + Number((fraction + '000000').slice(0, 6));
}
