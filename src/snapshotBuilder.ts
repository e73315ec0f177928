import type { FastEvent } from './reconcile/fastApply';
import { fastApply, indexForEventsSteps } from './reconcile/fastApply';
import { serverLinesByBackend } from './haproxy/configText';
import { resolverFrom } from './marathon/resolveHosts';
import { sameData } from './model/equality';
import { fileChecks } from './model/files';
import type { AppChecks } from './model/appsJson';
import { ServerMemo } from './model/serverIds';
import type { Problem } from './model/types';
import { RenderCache, renderConfig, renderConfigSteps, withServersOf } from './render/render';
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
  const snapshotOf = (body: unknown, hosts: ReadonlyMap<string, string>, probe: boolean) =>
    renderSnapshotSteps(
      body,
      templates,
      { model: modelOpts, render: renderOpts },
      {
        resolve: resolverFrom(hosts),
        rememberedHealth: health.view,
        files: fileChecks(),
        appChecks,
        ...(probe ? { servers: new ServerMemo(), renderCache: new RenderCache() } : { servers, renderCache }),
      },
    );

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
 * The event fast path's build: `event` applied to the apps `base` was built from, the one routed app
 * it concerns rebuilt (src/reconcile/fastApply.ts). Only that app's services are rendered (their server
 * lines, for the runtime API); the config text stays the one HAProxy last read, since a fast state
 * changes servers at runtime only (the next snapshot writes the file). Or why it is left to the snapshot.
 */
export function fastBuilder(d: SnapshotBuilderDeps): (event: FastEvent, base: DesiredState) => Result<DesiredState> {
  const { templates, modelOpts, renderOpts, health, renderCache } = d;
  return (event, base) => {
    const source = base.source;
    if (source === undefined) return err('the applied state has no apps to apply events to');
    const resolve = resolverFrom(source.hosts);
    // A host the last snapshot did not resolve: the snapshot resolves it.
    if (event.type === 'status_update_event' && event.host !== undefined && resolve(event.host) === undefined) {
      return err(`app ${event.appId}: host ${event.host} not resolved yet`);
    }
    const r = fastApply({ apps: source.apps, model: base.model }, event, modelOpts, {
      resolve,
      rememberedHealth: health.view,
      files: fileChecks(),
      idChains: d.servers.idChains,
    });
    if (!r.ok) return r;
    const part = renderConfig(r.value.changed, templates, renderOpts, renderCache);
    if (part.problems.length > 0) return err(`app ${event.appId}: ${part.problems.map((p) => p.message).join('; ')}`);
    const lines = new Map(source.serverLines);
    for (const [backend, servers] of serverLinesByBackend(part.config)) lines.set(backend, servers);
    return ok({
      model: r.value.state.model,
      rendered: base.rendered,
      source: { apps: r.value.state.apps, hosts: source.hosts, fast: true, serverLines: lines },
    });
  };
}

/**
 * A snapshot is older than the events that arrived while it was fetched (at 10 000 apps the fetch
 * takes seconds): those the fast path applied meanwhile are applied again to it, so it does not take
 * back servers HAProxy already runs, only to add them at the next snapshot. The result is rendered
 * in full (with the live caches): it is written, and may be reloaded, like any snapshot.
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
    for (const event of events) {
      yield;
      const r = fastApply(fast, event, modelOpts, ctx);
      if (!r.ok) continue;
      fast = r.value.state;
      for (const svc of r.value.changed) {
        if (!sameData(byBackend.get(svc.backend)?.servers, svc.servers)) changed = true;
        byBackend.set(svc.backend, svc);
      }
    }
    if (!changed) return { ...state, source: { apps: fast.apps, hosts: source.hosts } };
    // Events change servers: their backend sections in place of the old ones, unless more changed.
    const rendered =
      withServersOf(state.rendered, fast.model.services, templates, renderOpts, renderCache) ??
      (yield* renderConfigSteps(fast.model.services, templates, renderOpts, renderCache));
    const model = { services: rendered.served, problems: [...fast.model.problems, ...rendered.problems] };
    yield;
    yield* indexForEventsSteps({ apps: fast.apps, model });
    return { model, rendered, source: { apps: fast.apps, hosts: source.hosts } };
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
