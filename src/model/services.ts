import type { MarathonApp } from '../marathon/types';
import { mergeDeployments } from './deployments';
import { withoutUnreadyTasks } from './readiness';
import { protoProblem, type FileChecks } from './bindOptions';
import { EXCLUDED_TASK_STATES, healthCheckFor, healthVerdict, isHealthCheckError } from './healthChecks';
import { APP_ID_RULE, isAppId, isHostName, isIP, isPort } from './haproxyText';
import {
  isProblem,
  labelsByPort,
  readPortLabels,
  selectionLabels,
  type LabelChecks,
  type PortSettings,
} from './labels';
import { networkingMode, ServicePortAssigner, taskIp, taskPortsOf, type ResolveHost } from './networking';
import { inputsOf, memoizable, sameInputs } from './appKey';
import { keepsIds, keptIdsIn, type KeptIds } from './keptIds';
import { ServerNamer, type ServerIdChains, type ServerMemo, type ServerTarget } from './serverIds';
import type { OwnAddresses } from './templateLabels';
import { drain } from '../steps';
import {
  tasksLeftOut,
  type HealthCheck,
  type Mode,
  type Model,
  type PortHolders,
  type Problem,
  type Service,
} from './types';

export interface ModelOptions {
  /** `--group` values; `*` selects every app, with or without HAPROXY_GROUP. */
  readonly groups: readonly string[];
  readonly strictMode: boolean;
  /** `--health-check`: leave out tasks whose Marathon health checks do not pass. */
  readonly healthCheck: boolean;
  /** `--min/max-serv-port-ip-per-task`; null disables auto-assignment. */
  readonly servicePortRange: { readonly min: number; readonly max: number } | null;
  /** Apps whose id (without the slash) equals this are skipped: marathon-lb itself (FRAMEWORK_NAME). */
  readonly frameworkName?: string | undefined;
  /** --refuse-app-templates: per-app template labels leave their service port out. */
  readonly refuseAppTemplates?: boolean | undefined;
  /** --ssl-certs: labels naming one of these are not checked again (the :443 frontend loads them). */
  readonly operatorCerts?: readonly string[] | undefined;
  /** The load balancer's own addresses (its interfaces', ownAddresses): a template label may not send traffic there. */
  readonly ownAddresses?: OwnAddresses | undefined;
  /** --respect-readiness-checks: leave out tasks whose Marathon readiness checks have not passed (readiness.ts). */
  readonly respectReadinessChecks?: boolean | undefined;
}

export interface ModelContext {
  readonly resolve: ResolveHost;
  /** Health verdicts seen in earlier snapshots, by task id (marathon-lb's LRU cache). */
  readonly rememberedHealth?: ReadonlyMap<string, boolean>;
  /** Servers built for earlier snapshots, reused when a backend's tasks did not change. */
  readonly servers?: ServerMemo;
  /** Checks files named by SSL_CERT / BIND_OPTIONS labels; without it they are not checked. */
  readonly files?: FileChecks;
  /** Server ids' re-hash chains kept across builds (those of `servers` when it is given). */
  readonly idChains?: ServerIdChains;
  /** The servers HAProxy runs now: those that stay keep their ids (keptIds.ts). Without it, ids are marathon-lb's. */
  readonly keptIds?: KeptIds;
  /** Who serves each service port now: IP-per-task apps keep their assigned ports (networking.ts), and render.ts. */
  readonly portHolders?: PortHolders | undefined;
}

interface Draft {
  readonly appId: string;
  readonly portIndex: number;
  readonly appGroups: readonly string[];
  readonly settings: PortSettings;
  readonly servicePort: number;
  readonly healthCheck: HealthCheck | null;
  readonly mode: Mode;
  readonly backends: ServerTarget[];
  /** The member apps when this is a deployment group's merged app. */
  readonly deploymentMembers: readonly string[] | undefined;
}

const NO_MEMORY: ReadonlyMap<string, boolean> = new Map();

/**
 * Marathon apps → the services HAProxy should serve (marathon-lb's get_apps + the selection part of
 * config()). Pure: name resolution and remembered health verdicts come in through `ctx`.
 */
export function toModel(
  apps: readonly MarathonApp[],
  opts: ModelOptions,
  ctx: ModelContext,
): Model & { readonly observedHealth: ReadonlyMap<string, boolean> } {
  return drain(toModelSteps(apps, opts, ctx));
}

/** Apps between two steps of toModelSteps: a few ms of work for new apps, far less for remembered ones. */
const APPS_PER_STEP = 128;

/** toModel a few apps at a time (streams/inSlices.ts): the controller builds big snapshots in slices. */
export function* toModelSteps(
  apps: readonly MarathonApp[],
  opts: ModelOptions,
  ctx: ModelContext,
): Generator<void, Model & { readonly observedHealth: ReadonlyMap<string, boolean> }, undefined> {
  const problems: Problem[] = [];
  const observedHealth = new Map<string, boolean>();
  const remembered = ctx.rememberedHealth ?? NO_MEMORY;
  if (ctx.servers !== undefined) yield* ctx.servers.nextSnapshotSteps(JSON.stringify(opts));
  const services: Service[] = [];
  const namer = new ServerNamer(ctx.servers?.idChains ?? ctx.idChains);
  const build = (drafts: readonly Draft[], oneApp: boolean): void => {
    const byApp = oneApp ? null : groupByApp(drafts);
    const siblings = oneApp ? sortSmall(drafts.slice(), byServicePort) : [];
    for (const draft of drafts) {
      if (!selected(draft, opts)) continue;
      const built = buildService(draft, byApp === null ? siblings : byApp.get(draft.appId)!, ctx, namer);
      // An app built alone has its problems named after buildApp; deferred drafts mix apps, so here.
      if (isProblem(built)) problems.push(...(oneApp ? [built] : namingMembers(built, draft.deploymentMembers)));
      else services.push(built);
    }
  };
  const labelChecks: LabelChecks = {
    files: ctx.files,
    operatorCerts: new Set(opts.operatorCerts ?? []),
    refuseTemplates: opts.refuseAppTemplates,
    resolve: ctx.resolve,
    own: opts.ownAddresses,
  };
  const groupMembers = new Map<MarathonApp, readonly string[]>();
  const routed = mergeDeployments(
    opts.respectReadinessChecks === true ? withoutUnreadyTasks(apps) : apps,
    problems,
    groupMembers,
  );
  const assigner = new ServicePortAssigner(opts.servicePortRange, routed, {
    groups: opts.groups,
    holders: ctx.portHolders,
  });
  const goodHosts = new Set<string>();
  const idCount = new Map<string, number>();
  for (const app of routed) idCount.set(app.id, (idCount.get(app.id) ?? 0) + 1);
  // Services are built right after their app, so its task data dies young (far less for the GC to
  // promote); an id shared by several processed apps waits for all of them (siblings span them).
  const deferred: Draft[] = [];

  const memo = ctx.servers;
  const health = opts.healthCheck ? remembered : null;
  let sinceStep = 0;
  for (const app of routed) {
    if (++sinceStep === APPS_PER_STEP) {
      sinceStep = 0;
      yield;
    }
    if (opts.frameworkName !== undefined && app.id.slice(1) === opts.frameworkName) continue;
    // An app seen unchanged in a recent snapshot: its services and problems as they were (appKey.ts).
    // Not for ids shared by several apps (built together) or IP-per-task ports (assigned across apps).
    // A remembered app was reusable then; equal inputs keep it so (sameInputs covers what memoizable and assigns read).
    const single = memo !== undefined && idCount.get(app.id) === 1;
    const hit = single ? memo.app(app.id) : undefined;
    if (
      hit !== undefined &&
      sameInputs(hit.inputs, app, ctx.resolve, health) &&
      hit.services.every((svc) => keepsIds(ctx.keptIds, svc.backend, svc.servers))
    ) {
      memo!.rememberApp(app.id, hit);
      for (const p of hit.problems) problems.push(p);
      for (const [id, alive] of hit.observed) observedHealth.set(id, alive);
      for (const s of hit.services) services.push(s);
      continue;
    }
    const problemsBefore = problems.length;
    const servicesBefore = services.length;
    const observed: [string, boolean][] = [];
    buildApp(app, observed);
    // A deployment group's problems name its member apps, not the group (it may share an app's name).
    const members = groupMembers.get(app);
    if (members !== undefined) {
      const own = problems.splice(problemsBefore);
      for (const p of own) problems.push(...namingMembers(p, members));
    }
    for (const [id, alive] of observed) observedHealth.set(id, alive);
    if (single && memoizable(app) && !assigner.assigns(app, networkingMode(app))) {
      memo!.rememberApp(app.id, {
        inputs: inputsOf(app, ctx.resolve, health),
        services: services.slice(servicesBefore),
        problems: problems.slice(problemsBefore),
        observed,
      });
    }
  }
  build(deferred, false);
  services.sort((a, b) => (a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : a.servicePort - b.servicePort));
  return { services, problems, observedHealth };

  /** One app's services (or, for an id shared by several apps, its drafts in `deferred`) and problems. */
  function buildApp(app: MarathonApp, observed: [string, boolean][]): void {
    if (!isAppId(app.id)) {
      problems.push({
        appId: app.id,
        portIndex: null,
        label: 'id',
        message: `must be ${APP_ID_RULE} (it names HAProxy sections)`,
      });
      return;
    }
    const appGroups = app.labels['HAPROXY_GROUP']?.split(',') ?? [];
    const mode = networkingMode(app);
    const servicePorts = assigner.servicePorts(app, mode);
    const byServicePort = new Map<number, Draft>();
    const portLabels = labelsByPort(app.labels);
    for (let i = 0; i < servicePorts.length; i++) {
      const servicePort = servicePorts[i];
      if (servicePort === undefined) continue;
      const labels = portLabels(i);
      const settings = readPortLabels(app.id, labels, i, labelChecks);
      // Only the ports this marathon-lb serves are named: another group's are another instance's to report.
      if (isProblem(settings)) {
        if (isSelected(selectionLabels(labels), appGroups, opts)) problems.push(settings);
        // Still a port of the app, never served: BACKEND_HEALTHCHECK_PORT_INDEX counts it among its
        // siblings, as marathon-lb does (without it, a served port's checks went to the port after).
        if (servicePort !== null && isPort(servicePort) && !byServicePort.has(servicePort)) {
          const plain = readPortLabels(app.id, new Map(), i);
          if (!isProblem(plain)) {
            const shadow = draftService(app, i, servicePort, { ...plain, enabled: false }, appGroups, undefined);
            if (!isProblem(shadow)) byServicePort.set(servicePort, shadow);
          }
        }
        continue;
      }
      const portSelected = isSelected(settings, appGroups, opts);
      if (servicePort === null) {
        // The IP-per-task range is used up: upstream logs "Service ports are exhausted" and skips the port.
        const range = opts.servicePortRange!;
        if (portSelected)
          problems.push({
            appId: app.id,
            portIndex: i,
            label: 'servicePort',
            message: `no service port left for IP-per-task apps: ${range.min}-${range.max} are all taken (raise --max-serv-port-ip-per-task)`,
          });
        continue;
      }
      if (settings.port === null && !isPort(servicePort)) {
        if (portSelected)
          problems.push({
            appId: app.id,
            portIndex: i,
            label: 'servicePort',
            message: `service port ${servicePort as number} is outside 1..65535`,
          }); // isPort's guard narrowed it to never
        continue;
      }
      const draft = draftService(app, i, servicePort, settings, appGroups, groupMembers.get(app));
      if (!isProblem(draft)) byServicePort.set(servicePort, draft);
      else if (portSelected) problems.push(draft);
    }

    // Only apps with a selected service port need their tasks (siblings matter only within an app).
    let anySelected = false;
    for (const d of byServicePort.values()) anySelected ||= selected(d, opts);
    if (!anySelected) return;
    const portsOf = taskPortsOf(app, mode);
    const checked = opts.healthCheck && (app.healthChecks?.length ?? 0) > 0;
    // A task whose host or container IP HAProxy cannot use (a corrupted answer) is left out, named once
    // for the app: its other tasks are served (as marathon-lb skips a host it cannot resolve).
    let badTask: Problem | null = null;
    let badTasks = 0;
    /** By service port index. */
    let badPorts: Map<number, BadTaskPort> | undefined;
    const leaveOutTask = (label: string, message: string): void => {
      badTasks++;
      badTask ??= { appId: app.id, portIndex: null, label, message };
    };
    for (let t = 0; t < app.tasks.length; t++) {
      const task = app.tasks[t]!;
      if (task.state !== undefined && EXCLUDED_TASK_STATES.has(task.state)) continue;
      if (!task.host) {
        // Marathon 0.7.6 reported tasks without a host; marathon-lb warns of each ("Ignoring Marathon task without host").
        leaveOutTask(`tasks[${t}].host`, 'is missing or empty: Marathon gave no agent to route to');
        continue;
      }
      if (checked) {
        const verdict = healthVerdict(task, remembered);
        if (verdict.observed) observed.push([task.id, verdict.alive]);
        if (!verdict.alive) continue;
      }
      // Agents run many tasks: each host is checked once per snapshot.
      if (!goodHosts.has(task.host)) {
        if (!isIP(task.host) && !isHostName(task.host)) {
          leaveOutTask(`tasks[${t}].host`, 'must be a host name or an IP address');
          continue;
        }
        goodHosts.add(task.host);
      }
      const ip = taskIp(task, mode, ctx.resolve);
      const ports = portsOf(task);
      if (ip === undefined || ports.length === 0) continue;
      if (mode === 'container' && !isIP(ip)) {
        leaveOutTask(`tasks[${t}].ipAddresses[0].ipAddress`, 'must be an IPv4 or IPv6 address');
        continue;
      }
      // Versions of an app may differ in port count: match as many as both have.
      for (let k = 0; k < Math.min(ports.length, servicePorts.length); k++) {
        const sp = servicePorts[k];
        const draft = sp === null || sp === undefined ? undefined : byServicePort.get(sp);
        if (draft === undefined) continue;
        if (!isPort(ports[k])) {
          if (ports === task.ports) {
            // The task's own port: that task is left out of this service port (one event's bad port
            // emptied the backend through the fast path).
            const bad = (badPorts ??= new Map<number, BadTaskPort>()).get(k);
            if (bad === undefined) badPorts.set(k, { label: `tasks[${t}].ports[${k}]`, port: ports[k]!, count: 1 });
            else bad.count++;
            continue;
          }
          // The app-level port every task falls back to (portDefinitions, portMappings, discovery).
          problems.push({
            appId: app.id,
            portIndex: k,
            label: 'task port',
            message: `port ${ports[k]} is outside 1..65535`,
          });
          byServicePort.delete(sp!);
          continue;
        }
        draft.backends.push({ host: task.host, ip, port: ports[k]!, draining: task.draining === true });
      }
    }
    if (badTask !== null) {
      const b: Problem = badTask;
      problems.push({ ...b, message: `${b.message}: ${tasksLeftOut(badTasks)}` });
    }
    for (const [k, b] of badPorts ?? [])
      problems.push({
        appId: app.id,
        portIndex: k,
        label: b.label,
        message: `port ${b.port} is outside 1..65535: ${tasksLeftOut(b.count)}`,
      });
    const appDrafts: Draft[] = [];
    for (const d of byServicePort.values()) if (d.backends.length > 0) appDrafts.push(d);
    if (idCount.get(app.id) === 1) build(appDrafts, true);
    else deferred.push(...appDrafts);
  }
}

/** The first task port outside 1..65535 of a service port, and how many tasks had one. */
interface BadTaskPort {
  readonly label: string;
  readonly port: number;
  count: number;
}

function draftService(
  app: MarathonApp,
  index: number,
  originalPort: number,
  settings: PortSettings,
  appGroups: readonly string[],
  deploymentMembers: readonly string[] | undefined,
): Draft | Problem {
  let healthCheck = healthCheckFor(app, index);
  if (isHealthCheckError(healthCheck))
    return { appId: app.id, portIndex: index, label: healthCheck.field, message: healthCheck.message };
  let mode: Mode | null = healthCheck?.protocol === 'HTTP' ? 'http' : null;
  if (settings.mode !== null) mode = settings.mode;
  // HAPROXY_{n}_BACKEND_HEALTHCHECK_PORT_INDEX borrows another port's health check (upstream #198).
  if (healthCheck === null && settings.healthcheckPortIndex !== null) {
    healthCheck = healthCheckFor(app, settings.healthcheckPortIndex);
    if (isHealthCheckError(healthCheck))
      return { appId: app.id, portIndex: index, label: healthCheck.field, message: healthCheck.message };
    if (healthCheck !== null && ['HTTP', 'HTTPS', 'MESOS_HTTP', 'MESOS_HTTPS'].includes(healthCheck.protocol))
      mode = 'http';
  }
  const finalMode = mode ?? (settings.hostname ? 'http' : 'tcp');
  const proto = settings.bindOptions === null ? null : protoProblem(settings.bindOptions, finalMode);
  if (proto !== null)
    return { appId: app.id, portIndex: index, label: `HAPROXY_${index}_BIND_OPTIONS`, message: proto };
  return {
    appId: app.id,
    portIndex: index,
    appGroups,
    settings,
    servicePort: settings.port ?? originalPort,
    healthCheck,
    mode: finalMode,
    backends: [],
    deploymentMembers,
  };
}

/** `p` of a deployment group's merged app, as one problem per member app (unchanged outside groups). */
export function namingMembers(p: Problem, members: readonly string[] | undefined): Problem[] {
  if (members === undefined) return [p];
  return members.map((appId) => ({ ...p, appId, message: `${p.message} (deployment group ${p.appId})` }));
}

const selected = (draft: Draft, opts: ModelOptions): boolean => isSelected(draft.settings, draft.appGroups, opts);

function isSelected(
  settings: Pick<PortSettings, 'enabled' | 'groups'>,
  appGroups: readonly string[],
  opts: ModelOptions,
): boolean {
  const own = settings.groups.length > 0 ? settings.groups : appGroups;
  const inGroup = opts.groups.includes('*') || own.some((g) => opts.groups.includes(g));
  const enabled = settings.enabled ?? !opts.strictMode;
  return inGroup && enabled;
}

const byHostPort = (a: ServerTarget, b: ServerTarget): number =>
  a.host < b.host ? -1 : a.host > b.host ? 1 : a.port - b.port;
const byServicePort = (a: Draft, b: Draft): number => a.servicePort - b.servicePort;

/**
 * Sorts in place. Small arrays (a backend's few tasks, an app's ports) by insertion, stable like
 * Array#sort, which allocates its work arrays on every call (~1 KB: 3 MB per 5 000-app model).
 */
function sortSmall<T>(xs: T[], cmp: (a: T, b: T) => number): T[] {
  if (xs.length > 16) return xs.sort(cmp);
  for (let i = 1; i < xs.length; i++) {
    const x = xs[i]!;
    let j = i - 1;
    for (; j >= 0 && cmp(xs[j]!, x) > 0; j--) xs[j + 1] = xs[j]!;
    xs[j + 1] = x;
  }
  return xs;
}

function groupByApp(drafts: readonly Draft[]): Map<string, Draft[]> {
  const m = new Map<string, Draft[]>();
  for (const d of drafts) {
    const list = m.get(d.appId) ?? [];
    list.push(d);
    m.set(d.appId, list);
  }
  for (const list of m.values()) list.sort(byServicePort);
  return m;
}

function buildService(
  draft: Draft,
  siblings: readonly Draft[],
  ctx: ModelContext,
  namer: ServerNamer,
): Service | Problem {
  const memo = ctx.servers;
  const s = draft.settings;
  // A draft's backends are its own (filled by buildApp): sorted where they are, no copy per service.
  const backends = sortSmall(draft.backends, byHostPort);
  // The port whose tasks answer health checks for server idx (upstream's get_backend_port).
  const hcIndex = s.healthcheckPortIndex;
  const useSibling = hcIndex !== null && Math.abs(hcIndex) <= siblings.length;
  const sibling = useSibling ? siblings[hcIndex < 0 ? siblings.length + hcIndex : hcIndex] : undefined;
  const checkTargets = sibling === undefined ? backends : sortSmall(sibling.backends, byHostPort);
  if (draft.healthCheck !== null && useSibling && (sibling === undefined || checkTargets.length < backends.length)) {
    return {
      appId: draft.appId,
      portIndex: draft.portIndex,
      label: `HAPROXY_${draft.portIndex}_BACKEND_HEALTHCHECK_PORT_INDEX`,
      message: `index ${hcIndex} names a service port without a task for every server`,
    };
  }
  const checkPort = (idx: number): number | null =>
    draft.healthCheck === null ? null : hcIndex !== null ? checkTargets[idx]!.port : draft.healthCheck.port;
  const backend = `${draft.appId.slice(1).replaceAll('/', '_')}_${draft.servicePort}`;
  let servers = memo?.get(backend, backends, checkPort);
  if (servers !== undefined && !keepsIds(ctx.keptIds, backend, servers)) servers = undefined;
  if (servers === undefined) {
    const kept = ctx.keptIds?.ids(backend);
    const names = backends.map((b) => namer.name(b.host, b.ip, b.port));
    const taken = namer.idsOfNextBackend();
    // The ids of servers that stay are taken before any new server picks one.
    const keptId =
      kept === undefined
        ? undefined
        : keptIdsIn(kept, names).map((id) => {
            if (id === undefined || taken.has(id)) return undefined;
            taken.add(id);
            return id;
          });
    servers = backends.map((b, idx) => {
      const name = names[idx]!;
      return {
        name,
        id: keptId?.[idx] ?? namer.id(name, taken),
        host: b.host,
        ip: b.ip,
        port: b.port,
        draining: b.draining,
        healthCheckPort: checkPort(idx),
      };
    });
    memo?.remember(backend, servers);
  }
  const built: Service = {
    appId: draft.appId,
    portIndex: draft.portIndex,
    servicePort: draft.servicePort,
    // Always set (undefined when Marathon chose the port): one object shape for every service.
    servicePortFromLabel: s.port === null ? undefined : true,
    backend,
    mode: draft.mode,
    balance: s.balance,
    bindAddr: s.bindAddr,
    bindOptions: s.bindOptions,
    sslCert: s.sslCert,
    hostname: s.hostname,
    path: s.path,
    auth: s.auth,
    sticky: s.sticky,
    redirectHttpToHttps: s.redirectHttpToHttps,
    useHsts: s.useHsts,
    backendWeight: s.backendWeight,
    networkAllowed: s.networkAllowed,
    proxyPath: s.proxyPath,
    revProxyPath: s.revProxyPath,
    redirPath: s.redirPath,
    healthCheck: draft.healthCheck,
    backendCheckPort: draft.healthCheck === null ? null : (checkTargets[0]?.port ?? null),
    templateLabels: s.templateLabels,
    // Always set (undefined outside deployment groups): one object shape for every service.
    deploymentMembers: draft.deploymentMembers,
    servers,
  };
  // Same as in a recent snapshot: hand back that object, so renderers can reuse what they made of it.
  return memo?.sameService(built) ?? built;
}
