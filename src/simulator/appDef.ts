import type { AppDef, PortMapping, SimFailure, SimState } from './types';
import { fail } from './types';
import { err, ok, type Result } from '../result';

/** Automatic service ports run from SimState.nextServicePort to here; then creating an app fails (422), as Marathon's does when its range is used up. */
const LAST_SERVICE_PORT = 65535;
/**
 * Tasks per app. Marathon takes any count and leaves what the cluster cannot place staged; the
 * simulator makes every task at once, so a mistyped count would fill its memory instead.
 */
const MAX_INSTANCES = 100_000;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const SEGMENT = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

/** `foo/bar` → `/foo/bar`; null when the id is not a valid Marathon app id. */
export function normalizeAppId(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const segments = raw.replace(/^\/+/, '').replace(/\/+$/, '').split('/');
  return segments.every((s) => SEGMENT.test(s)) ? '/' + segments.join('/') : null;
}

/** A normalized app definition, and the next service port to assign after the ones it took. */
interface Normalized {
  readonly def: AppDef;
  readonly nextServicePort: number;
}

/**
 * Turns a posted app definition into the normalized form Marathon 1.5+ answers with: leading `/` on
 * the id, `instances`/`labels`/`healthChecks`/`networks` defaulted, Docker-era `container.docker.portMappings`
 * moved to `container.portMappings`, and every service port 0 replaced by a free port ≥ 10000.
 */
export function normalizeAppDef(
  raw: unknown,
  state: SimState,
  now: string,
  previous?: AppDef,
): Result<Normalized, SimFailure> {
  if (!isObject(raw)) return fail(400, 'app definition must be a JSON object');
  const id = normalizeAppId(raw['id'] ?? previous?.id);
  if (id === null)
    return fail(422, `app id ${JSON.stringify(raw['id'])} is invalid: use lowercase letters, digits, '-', '.' and '/'`);
  const where = `app ${id}`;
  const instances = raw['instances'] ?? previous?.instances ?? 1;
  if (typeof instances !== 'number' || !Number.isInteger(instances) || instances < 0)
    return fail(422, `${where}: instances must be an integer ≥ 0`);
  if (instances > MAX_INSTANCES)
    return fail(422, `${where}: instances ${instances} is more than this simulator holds per app (${MAX_INSTANCES})`);
  const labels = raw['labels'] ?? previous?.labels ?? {};
  if (!isObject(labels) || !Object.values(labels).every((v) => typeof v === 'string'))
    return fail(422, `${where}: labels must be an object of strings`);
  const healthChecks = raw['healthChecks'] ?? previous?.healthChecks ?? [];
  if (!Array.isArray(healthChecks) || !healthChecks.every(isObject))
    return fail(422, `${where}: healthChecks must be an array of objects`);

  const merged: Json = { ...(previous ?? {}), ...raw };
  delete merged['tasks'];
  const checkedPorts = portsOf(merged, where);
  if (!checkedPorts.ok) return fail(422, checkedPorts.error);
  const ports = checkedPorts.value;

  // Built only when a port is to be assigned: at 10 000 apps with fixed ports, every create would scan them all.
  let used: Set<number> | undefined;
  let next = state.nextServicePort;
  const take = (p: number): number => {
    if (p !== 0) return p;
    used ??= new Set(state.apps.filter((a) => a.def.id !== id).flatMap((a) => servicePortsOf(a.def)));
    while (used.has(next)) next++;
    used.add(next);
    return next++;
  };
  const container =
    ports.mappings === undefined
      ? merged['container']
      : {
          ...withoutLegacyDocker(merged['container']),
          portMappings: ports.mappings.map((m) => ({ ...m, servicePort: take(m.servicePort) })),
        };
  const def: Json = {
    ...merged,
    id,
    instances,
    labels,
    healthChecks,
    networks: ports.networks,
    version: now,
    versionInfo: { lastScalingAt: now, lastConfigChangeAt: now },
  };
  if (container !== undefined) def['container'] = container;
  if (ports.definitions !== undefined)
    def['portDefinitions'] = ports.definitions.map((d) => ({ ...d, port: take(d.port) }));
  else delete def['portDefinitions'];
  delete def['ports'];
  if (next > LAST_SERVICE_PORT + 1)
    return fail(422, `${where}: no free service port is left (10000-${LAST_SERVICE_PORT})`);
  return ok({ def: def as unknown as AppDef, nextServicePort: next });
}

function withoutLegacyDocker(container: unknown): Json {
  if (!isObject(container)) return { type: 'DOCKER' };
  if (!isObject(container['docker'])) return container;
  const { portMappings: _m, network: _n, ...docker } = container['docker'];
  return { ...container, docker };
}

interface Ports {
  readonly definitions?: readonly { readonly port: number; readonly [k: string]: unknown }[];
  readonly mappings?: readonly PortMapping[];
  readonly networks: readonly { readonly mode: string; readonly name?: string }[];
}

function portsOf(app: Json, where: string): Result<Ports> {
  const container = isObject(app['container']) ? app['container'] : undefined;
  const docker = container !== undefined && isObject(container['docker']) ? container['docker'] : undefined;
  const rawMappings = container?.['portMappings'] ?? docker?.['portMappings'];
  const legacyNet = typeof docker?.['network'] === 'string' ? docker['network'] : undefined;
  const networks: readonly unknown[] =
    Array.isArray(app['networks']) && app['networks'].length > 0
      ? app['networks']
      : legacyNet === 'USER'
        ? [{ mode: 'container' }]
        : legacyNet === 'BRIDGE'
          ? [{ mode: 'container/bridge' }]
          : legacyNet === 'HOST' || rawMappings === undefined || rawMappings === null
            ? [{ mode: 'host' }]
            : [{ mode: 'container/bridge' }];
  if (!networks.every((n): n is { readonly mode: string } => isObject(n) && typeof n['mode'] === 'string'))
    return err(`${where}: networks must be objects with a mode`);
  // Marathon gives a bridged app without port mappings one (AppNormalization.applyDefaultPortMappings,
  // hostPort 0 in bridge mode), as it gives host networking one port definition.
  const givenMappings =
    rawMappings ??
    (networks[0].mode === 'container/bridge' ? [{ containerPort: 0, hostPort: 0, name: 'default' }] : undefined);
  if (Array.isArray(givenMappings) && networks[0].mode !== 'host') {
    if (!givenMappings.every(isObject)) return err(`${where}: container.portMappings must be an array of objects`);
    const mappings = givenMappings.map((m) => ({ protocol: 'tcp', ...m, servicePort: num(m['servicePort']) }));
    if (mappings.some((m) => Number.isNaN(m.servicePort)))
      return err(`${where}: portMappings[].servicePort must be a number`);
    return ok({ mappings, networks });
  }
  if (networks[0].mode !== 'host') return ok({ networks });
  const raw: unknown =
    app['portDefinitions'] ??
    (Array.isArray(app['ports'])
      ? (app['ports'] as unknown[]).map((port) => ({ port }))
      : [{ port: 0, name: 'default' }]);
  if (!Array.isArray(raw) || !raw.every(isObject)) return err(`${where}: portDefinitions must be an array of objects`);
  const definitions = raw.map((d) => ({ protocol: 'tcp', labels: {}, ...d, port: num(d['port']) }));
  if (definitions.some((d) => Number.isNaN(d.port))) return err(`${where}: portDefinitions[].port must be a number`);
  return ok({ definitions, networks });
}

const num = (v: unknown): number =>
  v === undefined || v === null ? 0 : typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : NaN;

export function servicePortsOf(def: AppDef): number[] {
  if (def.container?.portMappings !== undefined) return def.container.portMappings.map((m) => m.servicePort);
  return (def.portDefinitions ?? []).map((d) => d.port);
}

/**
 * One entry per host port a task of this app gets: a fixed port, or 0 for "assign one".
 * IP-per-task apps (`networks[0].mode == "container"`) only get host ports for mappings with a hostPort.
 */
export function hostPortSlots(def: AppDef): number[] {
  const mode = def.networks[0]?.mode ?? 'host';
  if (def.container?.portMappings !== undefined && mode !== 'host') {
    return def.container.portMappings
      .filter((m) => mode === 'container/bridge' || m.hostPort !== undefined)
      .map((m) => m.hostPort ?? 0);
  }
  return (def.portDefinitions ?? []).map(() => 0);
}
