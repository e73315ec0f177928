import type { FastEvent } from './reconcile/fastApply';
import { endsTask, fastApplyAll, fastApplyAllSteps, indexForEventsSteps } from './reconcile/fastApply';
import type { MarathonApp } from './marathon/types';
import { networkingMode } from './model/networking';
import type { FastBuilt } from './reconcile/fastPath';
import { serverLinesByBackend } from './haproxy/configText';
import { resolverFrom } from './marathon/resolveHosts';
import { sameData } from './model/equality';
import { fileChecks } from './model/files';
import type { KeptIds } from './model/keptIds';
import type { AppChecks } from './model/appsJson';
import { ServerMemo } from './model/serverIds';
import type { Problem } from './model/types';
import { RenderCache, renderConfig, renderConfigSteps, withServersOf, type PortHolders } from './render/render';
import { renderSnapshotSteps, type Snapshot } from './render/snapshot';
import type { ModelOptions } from './model/services';
import type { RenderOptions } from './render/render';
import type { TemplateSet } from './render/templates';
import type { DesiredState } from './reconcile/applyPort';
import type { HealthMemory } from './reconcile/healthMemory';
import type { BuildFault } from './reconcile/pipeline';
import { throwingItems } from './reconcile/throwingItems';
import { err, ok, type Result } from './result';
import { drain, type Steps } from './steps';

/** A snapshot read from Marathon: the apps body and the addresses of its host names. */
export interface Fetched {
  readonly body: unknown;
  readonly hosts: ReadonlyMap<string, string>;
}

export interface SnapshotBuilderDeps {
  readonly templates: TemplateSet;
  readonly modelOpts: ModelOptions;
  readonly renderOpts: RenderOptions;
  /** Health verdicts remembered across snapshots (--lru-cache-capacity). */
  readonly health: HealthMemory;
  /** The live caches, kept across snapshots. */
  readonly servers: ServerMemo;
  readonly renderCache: RenderCache;
  /** The ids of the servers HAProxy runs now (the applied state's), asked as each snapshot's build starts. */
  readonly keptIds?: () => KeptIds | undefined;
  /** Who serves each service port in the applied state, asked as each full render starts. */
  readonly portHolders?: () => PortHolders | undefined;
}

/**
 * Snapshot → desired state (model and rendered config), or the reason the snapshot is unusable.
 *
 * An exception here is a bug in the model or render. When single apps cause it, they are found by
 * halving (trial builds with fresh caches), left out with a problem naming each, and reported as
 * faults; the others are built and applied. Otherwise the exception is thrown on: the pipeline
 * skips that snapshot.
 */
export function snapshotBuilder(
  d: SnapshotBuilderDeps,
): (f: Fetched) => Steps<Result<DesiredState & { faults?: BuildFault[] }>> {
  const { templates, modelOpts, renderOpts, health, servers, renderCache } = d;
  // Checks of the apps' JSON shape, by app object: an unchanged app is the same object (AppsBodyDecoder).
  const appChecks: AppChecks = new WeakMap();
  /** `probe`: fresh caches, so trial builds leave the live ones (server ids, rendered lines) alone. */
  const snapshotOf = (body: unknown, hosts: ReadonlyMap<string, string>, probe: boolean) => {
    const keptIds = probe ? undefined : d.keptIds?.();
    const portHolders = d.portHolders?.(); // probes too: they must leave out what the real build leaves out
    return renderSnapshotSteps(
      body,
      templates,
      { model: modelOpts, render: renderOpts },
      {
        resolve: resolverFrom(hosts),
        rememberedHealth: health.view,
        files: fileChecks(),
        appChecks,
        ...(probe ? { servers: new ServerMemo(), renderCache: new RenderCache() } : { servers, renderCache }),
        ...(keptIds === undefined ? {} : { keptIds }),
        ...(portHolders === undefined ? {} : { portHolders }),
      },
    );
  };

  return function* (f) {
    let snap: Snapshot;
    let faults: BuildFault[] = [];
    try {
      snap = yield* snapshotOf(f.body, f.hosts, false);
    } catch (e) {
      // A bug: find the app(s) it comes from and leave them out, rather than every app's routing.
      const isolated = withoutThrowingApps(f.body, (body) => drain(snapshotOf(body, f.hosts, true)), e);
      if (isolated === null) throw e;
      snap = yield* snapshotOf(isolated.body, f.hosts, false);
      faults = isolated.faults;
    }
    if (!snap.ok) return err(`Marathon apps: ${snap.error}`);
    health.remember(snap.value.observedHealth);
    yield;
    yield* indexForEventsSteps(snap.value);
    const leftOut: Problem[] = faults.map((x) => ({
      appId: x.appId ?? '(unnamed app)',
      portIndex: null,
      label: null,
      message: `building its config failed (internal error: ${x.error})`,
    }));
    return ok({
      model: { ...snap.value.model, problems: [...snap.value.model.problems, ...leftOut] },
      rendered: snap.value.rendered,
      faults,
      source: { apps: snap.value.apps, hosts: f.hosts },
    });
  };
}

/**
 * The event fast path's build: `events` applied in turn to the apps `base` was built from, each
 * routed app they concern rebuilt once (src/reconcile/fastApply.ts). Only those apps' services are
 * rendered (their server lines, for the runtime API); the config text stays the one HAProxy last
 * read, since a fast state changes servers at runtime only (the next snapshot writes the file). Apps
 * whose events cannot be applied so are left to the snapshot, with why.
 */
export function fastBuilder(d: SnapshotBuilderDeps): (events: readonly FastEvent[], base: DesiredState) => FastBuilt {
  const { templates, modelOpts, renderOpts, health, renderCache } = d;
  return (events, base) => {
    const source = base.source;
    if (source === undefined)
      return {
        state: null,
        refused: new Map(events.map((e) => [e.appId, 'the applied state has no apps to apply events to'])),
      };
    const resolve = resolverFrom(source.hosts);
    const ctx = { resolve, rememberedHealth: health.view, files: fileChecks(), idChains: d.servers.idChains };
    // A host the last snapshot did not resolve: the snapshot resolves it (and the app's later events).
    // Not asked of an event that ends its task (its server goes by task id) nor of an IP-per-task app
    // (dialled at its container IP, its agent never looked up).
    const refused = new Map<string, string>();
    const unresolved = new Map<string, FastEvent>(); // app → its first event with such a host
    let appsById: Map<string, MarathonApp> | undefined; // made only for a host not resolved
    for (const e of events) {
      if (unresolved.has(e.appId) || e.type !== 'status_update_event' || e.host === undefined) continue;
      if (endsTask(e) || resolve(e.host) !== undefined) continue;
      const app = (appsById ??= new Map(source.apps.map((a) => [a.id, a]))).get(e.appId);
      if (app !== undefined && networkingMode(app) === 'container') continue;
      unresolved.set(e.appId, e);
      refused.set(e.appId, `app ${e.appId}: host ${e.host} not resolved yet`);
    }
    /** The events before each app's first unresolved host. */
    const applicable = (list: readonly FastEvent[]): FastEvent[] => {
      const stopped = new Set<string>();
      return list.filter((e) => {
        if (unresolved.get(e.appId) === e) stopped.add(e.appId);
        return !stopped.has(e.appId);
      });
    };
    const fast = { apps: source.apps, model: base.model };
    let r = fastApplyAll(fast, applicable(events), modelOpts, ctx);
    let part = renderConfig(r.changed, templates, renderOpts, renderCache);
    if (part.problems.length > 0) {
      // Rare (the snapshot rendered these apps): find the apps whose services do not render, alone.
      const unrendered = new Set<string>();
      for (const appId of new Set(events.map((e) => e.appId))) {
        const alone = fastApplyAll(fast, applicable(events.filter((e) => e.appId === appId)), modelOpts, ctx);
        const problems = renderConfig(alone.changed, templates, renderOpts, renderCache).problems;
        if (problems.length === 0) continue;
        unrendered.add(appId);
        refused.set(appId, `app ${appId}: ${problems.map((p) => p.message).join('; ')}`);
      }
      r = fastApplyAll(
        fast,
        applicable(events).filter((e) => !unrendered.has(e.appId)),
        modelOpts,
        ctx,
      );
      part = renderConfig(r.changed, templates, renderOpts, renderCache);
      if (part.problems.length > 0) {
        const why = `${part.problems.map((p) => `app ${p.appId}: ${p.message}`).join('; ')}`;
        return { state: null, refused: new Map(events.map((e) => [e.appId, why])) };
      }
    }
    for (const [app, why] of r.refused) if (!refused.has(app)) refused.set(app, why);
    if (r.state === fast) return { state: null, refused };
    const lines = new Map(source.serverLines);
    for (const [backend, servers] of serverLinesByBackend(part.config)) lines.set(backend, servers);
    return {
      state: {
        model: r.state.model,
        rendered: base.rendered,
        source: {
          apps: r.state.apps,
          hosts: source.hosts,
          fast: true,
          serverLines: lines,
          snapshotModel: source.snapshotModel ?? base.model,
        },
      },
      refused,
    };
  };
}

/** Events replayed onto a snapshot as one batch (fastApplyAllSteps: a step after each rebuild). */
const REPLAYED_PER_BATCH = 256;

/**
 * A snapshot is older than the events that arrived while it was fetched (at 10 000 apps the fetch
 * takes seconds): those the fast path applied meanwhile are applied again to it, so it does not take
 * back servers HAProxy already runs, only to add them at the next snapshot. An app whose event
 * cannot be applied keeps what the snapshot says (its later events too: built without the refused
 * one, they could serve a task it ended). The result is rendered in full (with the live caches): it
 * is written, and may be reloaded, like any snapshot.
 */
export function fastReplay(
  d: SnapshotBuilderDeps,
): (state: DesiredState, events: readonly FastEvent[]) => Steps<DesiredState> {
  const { templates, modelOpts, renderOpts, health, renderCache } = d;
  return function* (state, events) {
    const source = state.source;
    if (source === undefined || events.length === 0) return state;
    const ctx = {
      resolve: resolverFrom(source.hosts),
      rememberedHealth: health.view,
      files: fileChecks(),
      idChains: d.servers.idChains,
    };
    let fast = { apps: source.apps, model: state.model };
    let changed = false; // an event the snapshot did not show yet
    const byBackend = new Map(state.model.services.map((s) => [s.backend, s]));
    const refused = new Set<string>();
    // In batches: the events of a burst for one app are one rebuild of it, not one each.
    for (let i = 0; i < events.length; i += REPLAYED_PER_BATCH) {
      const some = events.slice(i, i + REPLAYED_PER_BATCH).filter((e) => !refused.has(e.appId));
      const r = yield* fastApplyAllSteps(fast, some, modelOpts, ctx);
      for (const app of r.refused.keys()) refused.add(app);
      fast = r.state;
      for (const svc of r.changed) {
        if (!sameData(byBackend.get(svc.backend)?.servers, svc.servers)) changed = true;
        byBackend.set(svc.backend, svc);
      }
    }
    if (!changed) return { ...state, source: { apps: fast.apps, hosts: source.hosts } };
    // Events change servers: their backend sections in place of the old ones, unless more changed.
    const rendered =
      withServersOf(state.rendered, fast.model.services, templates, renderOpts, renderCache) ??
      (yield* renderConfigSteps(fast.model.services, templates, renderOpts, renderCache, undefined, d.portHolders?.()));
    const model = { services: rendered.served, problems: [...fast.model.problems, ...rendered.problems] };
    yield;
    yield* indexForEventsSteps({ apps: fast.apps, model });
    return {
      model,
      rendered,
      source: { apps: fast.apps, hosts: source.hosts, snapshotModel: source.snapshotModel ?? state.model },
    };
  };
}

/**
 * The apps body without the apps whose presence alone makes `attempt` throw, with one fault each;
 * null when no single app is the cause.
 */
function withoutThrowingApps(
  body: unknown,
  attempt: (body: unknown) => unknown,
  error: unknown,
): { body: unknown; faults: BuildFault[] } | null {
  const apps = typeof body === 'object' && body !== null ? (body as { apps?: unknown }).apps : undefined;
  if (!Array.isArray(apps)) return null;
  const throws = (subset: readonly unknown[]): boolean => {
    try {
      attempt({ ...(body as object), apps: subset });
      return false;
    } catch {
      return true;
    }
  };
  const bad = throwingItems(apps as readonly unknown[], throws);
  if (bad === null) return null;
  const message = error instanceof Error ? error.message : String(error);
  const idOf = (app: unknown): string | null => {
    const id = typeof app === 'object' && app !== null ? (app as { id?: unknown }).id : undefined;
    return typeof id === 'string' && id !== '' ? id : `apps[${apps.indexOf(app)}]`;
  };
  return {
    body: { ...(body as object), apps: apps.filter((a) => !bad.includes(a)) },
    faults: bad.map((a) => ({ error: message, appId: idOf(a) })),
  };
}
