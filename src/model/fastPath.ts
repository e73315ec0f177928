import type { HealthStatusChangedEvent, StatusUpdateEvent } from '../marathon/eventTypes';
import type { MarathonApp, MarathonTask } from '../marathon/types';
import { plan } from '../streams/plan';
import { networkingMode, ServicePortAssigner } from './networking';
import { readinessVeto } from './readiness';
import { toModel, type ModelContext, type ModelOptions } from './services';
import type { Model, Service } from './types';

/** The events the fast path may apply: a task's state or health, for an app already known. */
export type FastEvent = StatusUpdateEvent | HealthStatusChangedEvent;

/** What the fast path keeps between events: the apps it routes and the model built from them. */
export interface FastState {
  readonly apps: readonly MarathonApp[];
  readonly model: Model;
}

/** Task states after which Marathon drops the task from `/v2/apps?embed=apps.tasks`. */
const GONE = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE',
  'TASK_GONE_BY_OPERATOR']);

const GROUP = 'HAPROXY_DEPLOYMENT_GROUP';
/** The id an app is routed under: its deployment group's, else its own (as mergeDeployments does). */
const routedId = (app: MarathonApp): string => {
  const g = app.labels[GROUP];
  return g === undefined ? app.id : g.startsWith('/') ? g : `/${g}`;
};

/**
 * The apps list as the next snapshot should show it after `event`, or null when the event cannot
 * be applied here (unknown app, or a health change of an unknown task): the snapshot decides then.
 */
export function applyEvent(apps: readonly MarathonApp[], event: FastEvent): readonly MarathonApp[] | null {
  const index = apps.findIndex((a) => a.id === event.appId);
  if (index < 0) return null;
  const app = apps[index]!;
  let tasks: readonly MarathonTask[];
  if (event.type === 'status_update_event') {
    const at = app.tasks.findIndex((t) => t.id === event.taskId);
    if (GONE.has(event.taskStatus)) {
      if (at < 0) return apps;
      tasks = app.tasks.filter((_, i) => i !== at);
    } else {
      const before: MarathonTask = at < 0 ? { id: event.taskId } : app.tasks[at]!;
      const task: MarathonTask = {
        ...before,
        state: event.taskStatus,
        ...(event.host !== undefined ? { host: event.host } : {}),
        ...(event.ports !== undefined ? { ports: event.ports } : {}),
        ...(event.ipAddresses !== undefined ? { ipAddresses: event.ipAddresses.map((ipAddress) => ({ ipAddress })) } : {}),
      };
      tasks = at < 0 ? [...app.tasks, task] : app.tasks.map((t, i) => (i === at ? task : t));
    }
  } else {
    // Marathon ≥ 1.4 names the instance; its tasks are "<instance>" (legacy ids) or "<instance>.<n>".
    const matches = (t: MarathonTask): boolean => t.id === event.taskId
      || (event.instanceId !== undefined && (t.id === event.instanceId || t.id.startsWith(`${event.instanceId}.`)));
    if (!app.tasks.some(matches)) return null;
    tasks = app.tasks.map((t) => (matches(t) ? { ...t, healthCheckResults: [{ alive: event.alive }] } : t));
  }
  return apps.map((a, i) => (i === index ? { ...app, tasks } : a));
}

export type FastResult =
  | { readonly ok: true; readonly state: FastState; readonly changed: readonly Service[] }
  | { readonly ok: false; readonly reason: string };

/**
 * `event` applied to `state`: the services of the one routed app it concerns (its deployment group,
 * when it is in one) rebuilt from the changed apps list with the same model code as a full rebuild,
 * the others kept. Refused (the snapshot decides) when the app is unknown, or when the change is
 * more than server churn inside the same backends — a reload, or service ports that depend on other
 * apps (IP-per-task ports assigned across apps).
 */
export function fastApply(state: FastState, event: FastEvent, opts: ModelOptions, ctx: ModelContext): FastResult {
  const apps = applyEvent(state.apps, event);
  if (apps === null) return { ok: false, reason: `app ${event.appId}: not in the last snapshot, or its task is unknown` };
  const target = apps.find((a) => a.id === event.appId)!;
  const previous = state.apps.find((a) => a.id === event.appId)!;
  const veto = readinessVeto(target, event, opts.respectReadinessChecks);
  if (veto !== null) return { ok: false, reason: `app ${event.appId}: ${veto}` };
  // IP-per-task service ports are assigned from the first task's ports, in turn across all apps.
  const assigned = (app: MarathonApp): string => JSON.stringify(new ServicePortAssigner(opts.servicePortRange).servicePorts(app, networkingMode(app)));
  if (assigned(previous) !== assigned(target)) return { ok: false, reason: `app ${event.appId}: its assigned service ports change` };
  const id = routedId(target);
  const group = apps.filter((a) => routedId(a) === id || a.id === id);
  const members = new Set<string>([id, ...group.map((a) => a.id)]);
  // A fresh server memo: the live one belongs to the snapshot path.
  const rebuilt = toModel(group, opts, { resolve: ctx.resolve, ...(ctx.rememberedHealth ? { rememberedHealth: ctx.rememberedHealth } : {}),
    ...(ctx.files ? { files: ctx.files } : {}) });
  const before = state.model.services.filter((s) => members.has(s.appId));
  const after = rebuilt.services.filter((s) => members.has(s.appId));
  const p = plan(before, after);
  if (p.reloadReasons.length > 0) return { ok: false, reason: `app ${id}: ${p.reloadReasons.map((r) => r.kind).join(', ')}` };
  const services = mergeSorted(state.model.services.filter((s) => !members.has(s.appId)), [...after].sort(byAppAndPort));
  const problems = [...state.model.problems.filter((x) => !members.has(x.appId)), ...rebuilt.problems];
  return { ok: true, state: { apps, model: { services, problems } }, changed: after };
}

const byAppAndPort = (a: Service, b: Service): number => (a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : a.servicePort - b.servicePort);

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
