import type { MarathonApp } from '../marathon/types';
import { parseAppsJson, type AppChecks } from '../model/appsJson';
import { toModelSteps, type ModelContext, type ModelOptions } from '../model/services';
import type { Model, Problem } from '../model/types';
import {
  ConfigError,
  renderConfigSteps,
  type RenderedConfig,
  type RenderOptions,
  type RenderCache,
  type VersionDependence,
} from './render';
import type { TemplateSet } from './templates';
import { err, ok, type Result } from '../result';
import { drain } from '../steps';

/** One Marathon snapshot rendered: the model served, its config and what was left out. */
export interface Rendered {
  readonly model: Model;
  readonly rendered: RenderedConfig;
  readonly problems: readonly Problem[];
  readonly observedHealth: ReadonlyMap<string, boolean>;
  readonly apps: readonly MarathonApp[];
}

export type Snapshot = Result<Rendered>;

export type SnapshotContext = ModelContext & {
  readonly renderCache?: RenderCache;
  readonly appChecks?: AppChecks;
  readonly dependsOnVersion?: VersionDependence;
};

/** `/v2/apps?embed=apps.tasks` body → model → config. Pure given its inputs; errors are values. */
export function renderSnapshot(
  body: unknown,
  templates: TemplateSet,
  opts: { readonly model: ModelOptions; readonly render: RenderOptions },
  ctx: SnapshotContext,
): Snapshot {
  return drain(renderSnapshotSteps(body, templates, opts, ctx));
}

/** renderSnapshot a few apps at a time (streams/inSlices.ts). */
export function* renderSnapshotSteps(
  body: unknown,
  templates: TemplateSet,
  opts: { readonly model: ModelOptions; readonly render: RenderOptions },
  ctx: SnapshotContext,
): Generator<void, Snapshot, undefined> {
  const apps = parseAppsJson(body, ctx.appChecks, opts.model.groups);
  if (!apps.ok) return apps;
  yield;
  const model = yield* toModelSteps(apps.value.apps, opts.model, ctx);
  try {
    const rendered = yield* renderConfigSteps(
      model.services,
      templates,
      opts.render,
      ctx.renderCache,
      ctx.dependsOnVersion,
      ctx.portHolders,
    );
    const served: Model = {
      services: rendered.served,
      problems: [...apps.value.problems, ...model.problems, ...rendered.problems],
    };
    return ok({
      model: served,
      rendered,
      problems: served.problems,
      observedHealth: model.observedHealth,
      apps: apps.value.apps,
    });
  } catch (e) {
    if (e instanceof ConfigError) return err(e.message);
    throw e;
  }
}
