import type { HealthStatusChangedEvent, StatusUpdateEvent } from '../marathon/eventTypes';
import { GROUP } from '../model/deployments';
import type { MarathonApp, MarathonTask } from '../marathon/types';
import { plan } from './plan';
import { networkingMode, ServicePortAssigner } from '../model/networking';
import { readinessVeto } from '../model/readiness';
import { keptIdsOf } from '../model/keptIds';
import { toModel, type ModelContext, type ModelOptions } from '../model/services';
import type { Model, Problem, Service } from '../model/types';
import { err, ok, type Result } from '../result';
import { drain, type Steps } from '../steps';

/** The events the fast path may apply: a task's state or health, for an app already known. */
export type FastEvent = StatusUpdateEvent | HealthStatusChangedEvent;

/** What the fast path keeps between events: the apps it routes and the model built from them. */
export interface FastState {
  readonly apps: readonly MarathonApp[];
  readonly model: Model;
}

/** Task states after which Marathon drops the task from `/v2/apps?embed=apps.tasks`. */
const GONE = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_LOST',
  'TASK_ERROR',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

/** The id an app is routed under: its deployment group's, else its own (as mergeDeployments does). */
const routedId = (app: MarathonApp): string => {
  const g = app.labels[GROUP];
  return g === undefined ? app.id : g.startsWith('/') ? g : `/${g}`;
};

/** Whether a status update ends its task: Marathon drops it from `/v2/apps?embed=apps.tasks`. */
export const endsTask = (event: StatusUpdateEvent): boolean => GONE.has(event.taskStatus);

/**
 * Whether `event` still applies to an app whose earlier event was left to the snapshot: one that ends
 * a task. Its server only leaves, as the snapshot will say whatever it says of the refused event.
 * Held back, a task Marathon killed after it failed one of several health checks (a failure the
 * snapshot judges) kept its requests until the snapshot came: seconds, more at scale.
 */
export const appliesAfterRefusal = (event: FastEvent): boolean =>
  event.type === 'status_update_event' && endsTask(event);

/** The task (or a new one of that id) after a status update that keeps it: its fields with the event's. */
export function taskAfter(before: MarathonTask | undefined, event: StatusUpdateEvent): MarathonTask {
  return {
    ...(before ?? { id: event.taskId }),
    state: event.taskStatus,
    ...(event.host !== undefined ? { host: event.host } : {}),
    ...(event.ports !== undefined ? { ports: event.ports } : {}),
    ...(event.ipAddresses !== undefined ? { ipAddresses: event.ipAddresses.map((ipAddress) => ({ ipAddress })) } : {}),
  };
}

/**
 * Whether a failed health check of `task` is the snapshot's to judge: the event does not say which
 * check changed, and with several a task that fails one may pass another and stay routed
 * (healthChecks.ts; its task left rotation for seconds, found by an audit). One that passes any is
 * routed either way.
 */
export const hasSeveralChecks = (app: MarathonApp, task: MarathonTask): boolean =>
  (task.healthCheckResults?.length ?? 0) > 1 || (app.healthChecks?.length ?? 0) > 1;

/**
 * An app's tasks as events change them in turn, each event in time independent of the app's size:
 * its tasks are copied and indexed once, not searched and copied again for every event (500 events
 * of an app of 40 000 tasks held the controller 5 s). A status update acts on the first task of its
 * id (appending a new one), a health change on every task of its id or instance; a health change
 * of no known task, or a failed one of a task with several checks, does not apply.
 */
class TaskEdits {
  private readonly slots: (MarathonTask | undefined)[];
  /** Live slots of each task id, in order (a duplicated id: a status update acts on the first). */
  private readonly byId = new Map<string, number[]>();
  /** Slots by every prefix of a task id before a dot, made for the first event naming an instance. */
  private byPrefix: Map<string, number[]> | undefined;
  private changed = false;

  constructor(private readonly app: MarathonApp) {
    this.slots = app.tasks.slice();
    for (let i = 0; i < this.slots.length; i++) this.index(i);
  }

  private networking: ReturnType<typeof networkingMode> | undefined;
  private mode(): ReturnType<typeof networkingMode> {
    return (this.networking ??= networkingMode(this.app));
  }

  /** The app with the events applied so far (the same object when none changed it). */
  result(): MarathonApp {
    if (!this.changed) return this.app;
    const tasks: MarathonTask[] = [];
    for (const t of this.slots) if (t !== undefined) tasks.push(t);
    return { ...this.app, tasks };
  }

  /** Whether `event` applies (see above); nothing is changed. */
  applies(event: FastEvent): boolean {
    if (event.type === 'status_update_event') {
      const at = this.byId.get(event.taskId)?.[0];
      if (endsTask(event)) return true;
      const known = at === undefined ? undefined : this.slots[at]!;
      // A running task with no ports of its own would be dialled at the app's service port (marathon-lb's
      // fallback for Marathon < 1.5): one event put HAProxy's own frontend among the servers (an audit).
      // Marathon gives its tasks ports: the snapshot decides such a one (IP-per-task apps use the app's).
      if ((taskAfter(known, event).ports?.length ?? 0) === 0 && this.mode() !== 'container') return false;
      return known === undefined || !movesTask(known, event);
    }
    const matching = this.healthMatches(event);
    if (matching.length === 0) return false;
    return event.alive || !matching.some((i) => hasSeveralChecks(this.app, this.slots[i]!));
  }

  /** Applies `event`, which `applies`. */
  apply(event: FastEvent): void {
    if (event.type === 'status_update_event') {
      const at = this.byId.get(event.taskId)?.[0];
      if (endsTask(event)) {
        if (at === undefined) return;
        this.byId.get(event.taskId)!.shift();
        this.slots[at] = undefined;
      } else {
        const task = taskAfter(at === undefined ? undefined : this.slots[at], event);
        if (at !== undefined) this.slots[at] = task;
        else this.index(this.slots.push(task) - 1);
      }
    } else {
      for (const i of this.healthMatches(event))
        this.slots[i] = { ...this.slots[i]!, healthCheckResults: [{ alive: event.alive }] };
    }
    this.changed = true;
  }

  /**
   * The live slots a health change names: its task's id, its instance's id (a legacy task), or a task
   * of the instance (Marathon ≥ 1.4 names them `<instance>.<n>`).
   */
  private healthMatches(event: HealthStatusChangedEvent): number[] {
    const found = new Set<number>(event.taskId === undefined ? [] : this.byId.get(event.taskId));
    const instance = event.instanceId;
    if (instance !== undefined) {
      for (const i of this.byId.get(instance) ?? []) found.add(i);
      // Every task id starts with the app's own part (`/prod/web`: `prod_web.`): an instance id is longer.
      // Named alone, it is no instance, and it matched every task of the app (a hostile event).
      if (instance.length <= this.app.id.length) return [...found];
      this.byPrefix ??= this.prefixIndex();
      for (const i of this.byPrefix.get(instance) ?? []) if (this.slots[i] !== undefined) found.add(i);
    }
    return [...found];
  }

  private index(i: number): void {
    const id = this.slots[i]!.id;
    const list = this.byId.get(id);
    if (list === undefined) this.byId.set(id, [i]);
    else list.push(i);
    if (this.byPrefix !== undefined) addPrefixes(this.byPrefix, id, i);
  }

  private prefixIndex(): Map<string, number[]> {
    const m = new Map<string, number[]>();
    this.slots.forEach((t, i) => {
      if (t !== undefined) addPrefixes(m, t.id, i);
    });
    return m;
  }
}

/** `i` under each prefix of `id` that a dot follows (`a.b.c`: `a`, `a.b`): an instance's tasks are `<instance>.<n>`. */
function addPrefixes(m: Map<string, number[]>, id: string, i: number): void {
  for (let dot = id.indexOf('.'); dot >= 0; dot = id.indexOf('.', dot + 1)) {
    const key = id.slice(0, dot);
    const list = m.get(key);
    if (list === undefined) m.set(key, [i]);
    else list.push(i);
  }
}

/**
 * Whether a status update says a task known to the snapshot runs elsewhere: another host, other
 * ports or other IP addresses than the snapshot's (each where both say some). Marathon never moves a
 * running task; the snapshot decides such a contradiction. Applied, each such event took the task's
 * server out and put one at the event's address, and routing flapped with every snapshot (found by
 * an audit).
 */
function movesTask(known: MarathonTask, event: StatusUpdateEvent): boolean {
  if (event.host !== undefined && known.host !== undefined && known.host !== '' && event.host !== known.host)
    return true;
  if (event.ports !== undefined && event.ports.length > 0 && (known.ports?.length ?? 0) > 0) {
    const ports = known.ports!;
    if (event.ports.length !== ports.length || event.ports.some((p, i) => p !== ports[i])) return true;
  }
  const knownIps = known.ipAddresses ?? [];
  if (event.ipAddresses !== undefined && event.ipAddresses.length > 0 && knownIps.length > 0) {
    if (
      event.ipAddresses.length !== knownIps.length ||
      event.ipAddresses.some((ip, i) => ip !== knownIps[i]?.ipAddress)
    )
      return true;
  }
  return false;
}

/** `apps` with some replaced (by index), sharing its index: the same apps at the same places. */
function withApps(apps: readonly MarathonApp[], edited: ReadonlyMap<number, MarathonApp>): readonly MarathonApp[] {
  const next = apps.slice();
  for (const [at, app] of edited) next[at] = app;
  appIndexes.set(next, appIndex(apps));
  return next;
}

/** The state after the event and the services it rebuilt; or why the snapshot must decide. */
export type FastResult = Result<{ readonly state: FastState; readonly changed: readonly Service[] }>;

/**
 * `event` applied to `state`: the services of the one routed app it concerns (its deployment group,
 * when it is in one) rebuilt from the changed apps list with the same model code as a full rebuild,
 * the others kept. Refused (the snapshot decides) when the app is unknown, or when the change is
 * more than server churn inside the same backends — a reload, or service ports that depend on other
 * apps (IP-per-task ports assigned across apps).
 */
export function fastApply(state: FastState, event: FastEvent, opts: ModelOptions, ctx: ModelContext): FastResult {
  const edits = new StateEdits(state);
  const r = applyOne(edits, event, opts, ctx);
  return r.ok ? ok({ state: edits.state(), changed: r.value }) : r;
}

/** fastApply on the edits under way: the services it rebuilt, recorded in `edits`; or why not. */
function applyOne(
  edits: StateEdits,
  event: FastEvent,
  opts: ModelOptions,
  ctx: ModelContext,
): Result<readonly Service[]> {
  const index = edits.index.at.get(event.appId);
  const app = index === undefined ? null : new TaskEdits(edits.app(index));
  if (app === null || !app.applies(event)) return err(unknownTo(event));
  const veto = readinessVeto(edits.app(index!), event, opts.respectReadinessChecks);
  if (veto !== null) return err(`app ${event.appId}: ${veto}`);
  app.apply(event);
  const target = app.result();
  return rebuiltGroup(edits, new Map([[index!, target]]), routedId(target), opts, ctx);
}

const unknownTo = (event: FastEvent): string =>
  `app ${event.appId}: not in the last snapshot, its task is unknown or said to run elsewhere than the snapshot says, or it has several health checks and one failed`;

/** What a batch of events made of a state (fastApplyAll). */
export interface FastBatch {
  readonly state: FastState;
  /** The services of the routed apps whose events were applied, rebuilt. */
  readonly changed: readonly Service[];
  /** Apps left to the snapshot, with why: the event refused and the app's later ones were not applied. */
  readonly refused: ReadonlyMap<string, string>;
}

/**
 * `events` applied in turn as fastApply would (an app's events after one it refused are refused
 * too, but those that end a task: appliesAfterRefusal), with each routed app rebuilt once for all its events rather than once per event: a scale of
 * 1 000 tasks of an app of 2 000 was 1 000 rebuilds of it, ~10 s in all. When the batch of a routed
 * app is refused as a whole (its services change beyond server churn), its events are taken one at a
 * time, so each applies as it would alone; a batch that is only server churn is applied even where an
 * event in between alone would not be (a task up on a port no task had, then gone again). Past
 * ONE_AT_A_TIME_UP_TO events such a routed app's are all left to the snapshot, which comes anyway.
 * The apps and services lists are copied once for the batch, not once per routed app.
 */
export function fastApplyAll(
  state: FastState,
  events: readonly FastEvent[],
  opts: ModelOptions,
  ctx: ModelContext,
): FastBatch {
  return drain(fastApplyAllSteps(state, events, opts, ctx));
}

/**
 * The most events of one routed app taken one at a time when their batch is refused: each is a
 * rebuild of the app, and 500 events of an app of 40 000 tasks were 500 rebuilds (seconds).
 */
const ONE_AT_A_TIME_UP_TO = 32;

/** fastApplyAll a rebuild at a time (a step after each): a snapshot's replay runs in slices. */
export function* fastApplyAllSteps(
  state: FastState,
  events: readonly FastEvent[],
  opts: ModelOptions,
  ctx: ModelContext,
): Steps<FastBatch> {
  const refused = new Map<string, string>();
  const byRoutedApp = new Map<string, FastEvent[]>();
  const ix = appIndex(state.apps);
  for (const event of events) {
    const at = ix.at.get(event.appId);
    if (at === undefined) {
      if (!refused.has(event.appId)) refused.set(event.appId, unknownTo(event));
      continue;
    }
    const id = routedId(state.apps[at]!);
    const list = byRoutedApp.get(id);
    if (list === undefined) byRoutedApp.set(id, [event]);
    else list.push(event);
  }
  const edits = new StateEdits(state);
  const changed: Service[] = [];
  for (const [id, group] of byRoutedApp) {
    const batch = group.length > 1 ? batchOfGroup(edits, id, group, opts, ctx) : null;
    yield;
    if (batch !== null && batch.ok) {
      changed.push(...batch.value.changed);
      for (const [app, why] of batch.value.refused) refused.set(app, why);
      continue;
    }
    if (batch !== null && group.length > ONE_AT_A_TIME_UP_TO) {
      for (const event of group)
        if (!refused.has(event.appId))
          refused.set(event.appId, `${batch.error} (${group.length} events together: left to the snapshot)`);
      continue;
    }
    const last = new Map<string, Service>(); // by backend: what the group's last applied event rebuilt
    for (const event of group) {
      if (refused.has(event.appId) && !appliesAfterRefusal(event)) continue;
      const r = applyOne(edits, event, opts, ctx);
      yield;
      if (!r.ok) {
        if (!refused.has(event.appId)) refused.set(event.appId, r.error);
        continue;
      }
      for (const svc of r.value) last.set(svc.backend, svc);
    }
    changed.push(...last.values());
  }
  return { state: edits.state(), changed, refused };
}

/**
 * The events of one routed app applied together: each folded into its app in turn (an app's first
 * refused event ends its part, as one at a time), then the routed app rebuilt once. An error when
 * that rebuild is refused (nothing recorded in `edits` then).
 */
function batchOfGroup(
  edits: StateEdits,
  id: string,
  events: readonly FastEvent[],
  opts: ModelOptions,
  ctx: ModelContext,
): Result<{ readonly changed: readonly Service[]; readonly refused: ReadonlyMap<string, string> }> {
  const tasks = new Map<number, TaskEdits>();
  const refused = new Map<string, string>();
  for (const event of events) {
    if (refused.has(event.appId) && !appliesAfterRefusal(event)) continue;
    const at = edits.index.at.get(event.appId)!;
    let app = tasks.get(at);
    if (app === undefined) tasks.set(at, (app = new TaskEdits(edits.app(at))));
    if (!app.applies(event)) {
      if (!refused.has(event.appId)) refused.set(event.appId, unknownTo(event));
      continue;
    }
    // Readiness is the app's (its checks), not its tasks': the app before the event tells.
    const veto = readinessVeto(edits.app(at), event, opts.respectReadinessChecks);
    if (veto === null) app.apply(event);
    else if (!refused.has(event.appId)) refused.set(event.appId, `app ${event.appId}: ${veto}`);
  }
  const edited = new Map<number, MarathonApp>();
  for (const [at, app] of tasks) {
    const next = app.result();
    if (next !== edits.app(at)) edited.set(at, next);
  }
  if (edited.size === 0) return ok({ changed: [], refused });
  const r = rebuiltGroup(edits, edited, id, opts, ctx);
  return r.ok ? ok({ changed: r.value, refused }) : r;
}

/**
 * Routed app `id` with some of its apps changed (`edited`, by index) rebuilt with the same model
 * code as a full rebuild, recorded in `edits` with the others kept; refused when that is more than
 * server churn inside the same backends. Returns its rebuilt services.
 */
function rebuiltGroup(
  edits: StateEdits,
  edited: ReadonlyMap<number, MarathonApp>,
  id: string,
  opts: ModelOptions,
  ctx: ModelContext,
): Result<readonly Service[]> {
  const ix = edits.index;
  const appAt = (i: number): MarathonApp => edited.get(i) ?? edits.app(i);
  // IP-per-task service ports are assigned from the first task's ports, in turn across all apps.
  const assigned = (app: MarathonApp): string =>
    JSON.stringify(new ServicePortAssigner(opts.servicePortRange).servicePorts(app, networkingMode(app)));
  const indexes = [...new Set([...(ix.groups.get(id) ?? []), ...(ix.at.has(id) ? [ix.at.get(id)!] : [])])].sort(
    (a, b) => a - b,
  );
  for (const i of indexes) {
    if (edited.has(i) && assigned(edits.app(i)) !== assigned(edited.get(i)!))
      return err(`app ${edited.get(i)!.id}: its assigned service ports change`);
  }
  const group = indexes.map(appAt);
  const members = new Set<string>([id, ...group.map((a) => a.id)]);
  const places = [...members].flatMap((m) => edits.servicePlaces(m)).sort((a, b) => a - b);
  const before = places.map((i) => edits.service(i));
  // A fresh server memo: the live one belongs to the snapshot path. Servers that stay keep their ids.
  const rebuilt = toModel(group, opts, {
    resolve: ctx.resolve,
    ...(ctx.rememberedHealth ? { rememberedHealth: ctx.rememberedHealth } : {}),
    ...(ctx.files ? { files: ctx.files } : {}),
    ...(ctx.idChains ? { idChains: ctx.idChains } : {}),
    keptIds: keptIdsOf(before),
  });
  const rebuiltServices = rebuilt.services.filter((s) => members.has(s.appId));
  let after: readonly Service[] = rebuiltServices;
  let p = plan(before, after);
  if (p.reloadReasons.some((r) => r.kind === 'backend-removed')) {
    after = withGoneBackendsEmptied(before, rebuiltServices);
    p = plan(before, after);
  }
  if (p.reloadReasons.length > 0) return err(`app ${id}: ${p.reloadReasons.map((r) => r.kind).join(', ')}`);
  edits.record(edited, members, places, [...after].sort(byAppAndPort), rebuilt.problems);
  return ok(after);
}

/**
 * `after` with each backend of `before` it no longer has kept, without servers. An app's last task
 * gone removes its backend, which only a reload does: until the snapshot brings that reload, HAProxy
 * would keep sending requests to the dead task (seconds at scale, a connect timeout each when its
 * agent is lost). Emptied through the runtime API, the backend answers 503 at once; a backend
 * without servers is what marathon-lb itself renders for an app whose tasks all fail their checks.
 */
function withGoneBackendsEmptied(before: readonly Service[], after: readonly Service[]): readonly Service[] {
  const kept = new Set(after.map((s) => s.backend));
  const emptied = before
    .filter((s) => !kept.has(s.backend))
    .map((s) => (s.servers.length === 0 ? s : { ...s, servers: [] }));
  return emptied.length === 0 ? after : mergeSorted([...after].sort(byAppAndPort), emptied);
}

/**
 * A state with the changes of a batch of events recorded, copied into new lists once, when asked
 * for (state()): a burst of events of 2 000 apps of 20 000 copied both lists for each of them.
 * Routed apps are disjoint, so one's changes never touch another's places.
 */
class StateEdits {
  private apps = new Map<number, MarathonApp>();
  private services = new Map<number, Service>();
  private members = new Set<string>();
  private problems: Problem[] = [];

  constructor(private base: FastState) {}

  get index(): AppIndex {
    return appIndex(this.base.apps);
  }

  app(i: number): MarathonApp {
    return this.apps.get(i) ?? this.base.apps[i]!;
  }

  service(i: number): Service {
    return this.services.get(i) ?? this.base.model.services[i]!;
  }

  servicePlaces(appId: string): readonly number[] {
    return serviceIndex(this.base.model.services).get(appId) ?? [];
  }

  /** A routed app rebuilt: its apps, and its services `sorted` in place of those at `places`. */
  record(
    edited: ReadonlyMap<number, MarathonApp>,
    members: ReadonlySet<string>,
    places: readonly number[],
    sorted: readonly Service[],
    problems: readonly Problem[],
  ): void {
    for (const [i, app] of edited) this.apps.set(i, app);
    for (const m of members) this.members.add(m);
    this.problems.push(...problems);
    if (sorted.length === places.length && sorted.every((svc, k) => svc.backend === this.service(places[k]!).backend)) {
      places.forEach((at, k) => this.services.set(at, sorted[k]!));
      return;
    }
    // Other backends (rare: plan found no reload in it): the lists are made now, the services merged in.
    const now = this.state();
    this.base = {
      apps: now.apps,
      model: {
        services: mergeSorted(
          now.model.services.filter((s) => !members.has(s.appId)),
          sorted,
        ),
        problems: now.model.problems,
      },
    };
  }

  /** The state with every recorded change: each list copied once. */
  state(): FastState {
    if (this.apps.size === 0 && this.members.size === 0) return this.base;
    const services = replaced(this.base.model.services, this.services);
    const problems = [...this.base.model.problems.filter((x) => !this.members.has(x.appId)), ...this.problems];
    this.base = { apps: withApps(this.base.apps, this.apps), model: { services, problems } };
    this.apps = new Map();
    this.services = new Map();
    this.members = new Set();
    this.problems = [];
    return this.base;
  }
}

const byAppAndPort = (a: Service, b: Service): number =>
  a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : a.servicePort - b.servicePort;

/** Two sorted lists as one, in one pass: sorting 10 000 services again for every event cost more than the rest of it. */
function mergeSorted(a: readonly Service[], b: readonly Service[]): Service[] {
  const out: Service[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(byAppAndPort(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/**
 * Where each app is in an apps list, and the apps routed under each id (deployment groups). Built
 * once per snapshot: an event changes one app's tasks in place, so every list the fast path derives
 * shares its snapshot's index and an event costs the size of its app, not of the cluster.
 */
interface AppIndex {
  readonly at: ReadonlyMap<string, number>;
  readonly groups: ReadonlyMap<string, readonly number[]>;
}
const appIndexes = new WeakMap<readonly MarathonApp[], AppIndex>();

/** The app with this id in an apps list (through the list's index, built once per snapshot). */
export const appIn = (apps: readonly MarathonApp[], id: string): MarathonApp | undefined => {
  const at = appIndex(apps).at.get(id);
  return at === undefined ? undefined : apps[at];
};
function appIndex(apps: readonly MarathonApp[]): AppIndex {
  return appIndexes.get(apps) ?? drain(appIndexSteps(apps));
}
function* appIndexSteps(apps: readonly MarathonApp[]): Steps<AppIndex> {
  let ix = appIndexes.get(apps);
  if (ix === undefined) {
    const at = new Map<string, number>();
    const groups = new Map<string, number[]>();
    for (let i = 0; i < apps.length; i++) {
      if (i % ENTRIES_PER_STEP === ENTRIES_PER_STEP - 1) yield;
      const a = apps[i]!;
      if (!at.has(a.id)) at.set(a.id, i);
      const g = routedId(a);
      const members = groups.get(g);
      if (members === undefined) groups.set(g, [i]);
      else members.push(i);
    }
    ix = { at, groups };
    appIndexes.set(apps, ix);
  }
  return ix;
}

/** Index entries between two steps: the indexes of 10 000 apps took ~40 ms in one piece. */
const ENTRIES_PER_STEP = 1024;

/**
 * Builds the indexes the fast path reads for a state (once per snapshot, ~40 ms at 10 000 apps), in
 * steps: done with the snapshot's build, not by the first task event after it.
 */
export function* indexForEventsSteps(state: FastState): Steps<void> {
  yield* appIndexSteps(state.apps);
  yield* serviceIndexSteps(state.model.services);
}

/** Where each app's services are in a model's list; shared by the lists that replace services in place. */
const serviceIndexes = new WeakMap<readonly Service[], ReadonlyMap<string, readonly number[]>>();
function serviceIndex(services: readonly Service[]): ReadonlyMap<string, readonly number[]> {
  return serviceIndexes.get(services) ?? drain(serviceIndexSteps(services));
}
function* serviceIndexSteps(services: readonly Service[]): Steps<ReadonlyMap<string, readonly number[]>> {
  let ix = serviceIndexes.get(services);
  if (ix === undefined) {
    const m = new Map<string, number[]>();
    for (let i = 0; i < services.length; i++) {
      if (i % ENTRIES_PER_STEP === ENTRIES_PER_STEP - 1) yield;
      const s = services[i]!;
      const at = m.get(s.appId);
      if (at === undefined) m.set(s.appId, [i]);
      else at.push(i);
    }
    ix = m;
    serviceIndexes.set(services, ix);
  }
  return ix;
}

/** `services` with some replaced (by place: the same backends), sharing its index. */
function replaced(services: readonly Service[], by: ReadonlyMap<number, Service>): readonly Service[] {
  if (by.size === 0) return services;
  const out = services.slice();
  for (const [at, svc] of by) out[at] = svc;
  serviceIndexes.set(out, serviceIndex(services));
  return out;
}
