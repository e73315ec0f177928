/**
 * Marathon event-bus events as typed values. Only the fields marathon-lb may act on are typed;
 * events are hints (a snapshot is the truth), so anything else a Marathon version adds is ignored.
 * Narrow on `type` (the discriminant); `eventType` is always Marathon's own name of the event.
 */
import { err, ok, type Result } from '../result';

export type Validation<T> = Result<T>;

export const DEFAULT_EVENT_TYPES = ['api_post_event', 'status_update_event', 'health_status_changed_event'] as const;
/**
 * With --respect-readiness-checks: no event says a task became ready, but its deployment's steps and
 * end do, so they trigger a snapshot too.
 */
export const READINESS_EVENT_TYPES = [
  ...DEFAULT_EVENT_TYPES,
  'deployment_info',
  'deployment_step_success',
  'deployment_success',
  'deployment_failed',
] as const;

/** POST/PUT of an app definition through Marathon's REST API. */
export interface ApiPostEvent {
  readonly type: 'api_post_event';
  readonly eventType: 'api_post_event';
  readonly timestamp?: string;
  readonly uri?: string;
  /** `appDefinition.id`, when the post was about an app. */
  readonly appId?: string;
  /** The app as posted (Marathon sends the whole definition): whether routing changes is decided against it. */
  readonly appDefinition?: Readonly<Record<string, unknown>>;
}

/** A task changed state (TASK_STAGING, TASK_RUNNING, TASK_KILLED, …). */
export interface StatusUpdateEvent {
  readonly type: 'status_update_event';
  readonly eventType: 'status_update_event';
  readonly timestamp?: string;
  readonly appId: string;
  readonly taskId: string;
  readonly taskStatus: string;
  readonly host?: string;
  readonly ports?: readonly number[];
  readonly ipAddresses?: readonly string[];
  readonly version?: string;
}

/** A task's Marathon health check flipped. Marathon ≥ 1.4 names the instance, older ones the task. */
export interface HealthStatusChangedEvent {
  readonly type: 'health_status_changed_event';
  readonly eventType: 'health_status_changed_event';
  readonly timestamp?: string;
  readonly appId: string;
  readonly taskId?: string;
  readonly instanceId?: string;
  readonly alive: boolean;
  readonly version?: string;
}

/**
 * Any other event type (deployment_success, event_stream_attached, …): only its name is kept. A
 * task event whose fields cannot be applied as they are is one too, with why in `unusable`: it still
 * triggers a snapshot (as any event of its type does in marathon-lb), it is just never applied alone.
 */
export interface OtherEvent {
  readonly type: 'other';
  readonly eventType: string;
  readonly timestamp?: string;
  readonly unusable?: string;
}

export type MarathonEvent = ApiPostEvent | StatusUpdateEvent | HealthStatusChangedEvent | OtherEvent;

type Obj = Readonly<Record<string, unknown>>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const optStr = (o: Obj, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

/** Copies the optional string fields that are present (keeps `undefined` keys out of the values). */
function pick(o: Obj, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = optStr(o, k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

type FieldType = 'string' | 'boolean';
type Fields<S> = { readonly [K in keyof S]: S[K] extends 'boolean' ? boolean : string };

/** The fields an event of `type` must carry, typed; the error names the first one missing or of another type. */
function required<S extends Readonly<Record<string, FieldType>>>(o: Obj, type: string, spec: S): Validation<Fields<S>> {
  const out: Record<string, unknown> = {};
  for (const [k, want] of Object.entries(spec)) {
    if (typeof o[k] !== want) return err(`${type}: field "${k}" must be a ${want}`);
    out[k] = o[k];
  }
  return ok(out as Fields<S>);
}

const WRONG = Symbol('wrong');

/**
 * `o[k]` as a list of what `item` makes of each element: undefined when absent or null (an optional
 * field left empty), WRONG when it is not a list or one element is not what `item` takes (dropping it
 * would shift the ones after it: a task's ports and addresses are read by position).
 */
function listOf<T>(o: Obj, k: string, item: (v: unknown) => T | undefined): T[] | undefined | typeof WRONG {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) return WRONG;
  const out: T[] = [];
  for (const e of v) {
    const t = item(e);
    if (t === undefined) return WRONG;
    out.push(t);
  }
  return out;
}

/** An optional string field: absent, null (left empty: absent too) or a string. */
const absentOrString = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';

/** A task event that cannot be applied as it is: still a trigger, for the snapshot to decide. */
const unusable = (o: Obj, type: string, why: string): Validation<MarathonEvent> =>
  ok({ type: 'other', eventType: type, ...pick(o, ['timestamp']), unusable: why });

/** Validates one parsed JSON value from the event stream. */
export function parseMarathonEvent(v: unknown): Validation<MarathonEvent> {
  if (!isObj(v)) return err('event is not a JSON object');
  const type = v['eventType'];
  if (typeof type !== 'string' || type === '') return err('event has no "eventType" string');
  switch (type) {
    case 'api_post_event': {
      const def = v['appDefinition'];
      const appId = isObj(def) ? optStr(def, 'id') : undefined;
      return ok({
        type,
        eventType: type,
        ...pick(v, ['timestamp', 'uri']),
        ...(appId !== undefined && isObj(def) ? { appId, appDefinition: def } : {}),
      });
    }
    case 'status_update_event': {
      const fields = required(v, type, { appId: 'string', taskId: 'string', taskStatus: 'string' });
      // Integers, as a snapshot's task ports must be (model/appsJson.ts): the two paths read tasks alike.
      const ports = listOf(v, 'ports', (p) => (Number.isInteger(p) ? (p as number) : undefined));
      const ips = listOf(v, 'ipAddresses', (a) =>
        isObj(a) && typeof a['ipAddress'] === 'string' ? a['ipAddress'] : undefined,
      );
      if (!fields.ok) return unusable(v, type, fields.error);
      if (ports === WRONG) return unusable(v, type, `${type}: field "ports" must be a list of integers`);
      if (ips === WRONG)
        return unusable(v, type, `${type}: field "ipAddresses" must be a list of {"ipAddress": string}`);
      if (!absentOrString(v['host'])) return unusable(v, type, `${type}: field "host" must be a string`);
      return ok({
        type,
        eventType: type,
        ...fields.value,
        ...pick(v, ['timestamp', 'host', 'version']),
        ...(ports ? { ports } : {}),
        ...(ips ? { ipAddresses: ips } : {}),
      });
    }
    case 'health_status_changed_event': {
      const fields = required(v, type, { appId: 'string', alive: 'boolean' });
      if (!fields.ok) return unusable(v, type, fields.error);
      const wrongField = ['taskId', 'instanceId'].find((k) => !absentOrString(v[k]));
      if (wrongField !== undefined) return unusable(v, type, `${type}: field "${wrongField}" must be a string`);
      return ok({
        type,
        eventType: type,
        ...fields.value,
        ...pick(v, ['timestamp', 'taskId', 'instanceId', 'version']),
      });
    }
    default:
      return ok({ type: 'other', eventType: type, ...pick(v, ['timestamp']) });
  }
}
