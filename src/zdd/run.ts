import { cleanupJson, deploymentTarget, validateApp, type JsonObject, type ZddApp } from './app';
import { ZddError, type ZddFailure, unwrap } from './errors';
import { lastDeploy, lastTwoDeploys, prepareDeploy, previousDeploys, type PrepareFlags } from './prepare';
import { pyJsonDumps } from './pyjson';
import { isHybrid, needsScaleUp, nextInstances, readyToDeleteOldApp, type ScaleFlags } from './scaling';
import { findTasksToKill, type DrainFlags } from './drain';
import type { ZddIo } from './io';

/**
 * zdd.py's do_zdd: a blue/green deploy of one app, step by step, against Marathon and marathon-lb.
 *
 * 1. The app JSON is checked; the apps of its HAPROXY_DEPLOYMENT_GROUP are listed.
 * 2. None or one: the next colour is prepared (prepare.ts), printed, and created (unless --dry-run).
 *    Two or more: a deploy is under way — resumed (--resume) or a hybrid completed (--complete-cur,
 *    --complete-prev); otherwise that is an error.
 * 3. The swap loop: wait out Marathon's deployments of the new app, wait until marathon-lb serves
 *    both colours and some old tasks are drained (drain.ts), run the pre-kill hook, kill the drained
 *    tasks (scaling the old app down), grow the new app, until the old app can be deleted.
 *
 * Effects go through `io`; every failure comes back as a value.
 */

export interface ZddFlags extends PrepareFlags, ScaleFlags, DrainFlags {
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly resume: boolean;
  readonly preKillHook: string | undefined;
}

export type ZddOutcome =
  | { readonly kind: 'done'; readonly message: string }
  | { readonly kind: 'declined'; readonly message: string }
  | { readonly kind: 'failed'; readonly error: ZddFailure };

const done = (message: string): ZddOutcome => ({ kind: 'done', message });
const declined = (message: string): ZddOutcome => ({ kind: 'declined', message });

export async function runZdd(flags: ZddFlags, appJson: unknown, io: ZddIo): Promise<ZddOutcome> {
  try {
    return await doZdd(flags, appJson, io);
  } catch (e) {
    if (e instanceof ZddError) return { kind: 'failed', error: e.failure };
    return { kind: 'failed', error: { kind: 'other', message: e instanceof Error ? e.message : String(e) } };
  }
}

async function doZdd(flags: ZddFlags, appJson: unknown, io: ZddIo): Promise<ZddOutcome> {
  const cleaned = cleanupJson(appJson);
  if (typeof cleaned !== 'object' || cleaned === null || Array.isArray(cleaned)) {
    throw new ZddError({ kind: 'missing-field', message: 'the app JSON is not an object (missing field: id)' });
  }
  const app = unwrap(validateApp(cleaned as JsonObject));
  const previous = previousDeploys(await io.listApps(), app);

  if (previous.length > 1) return resumeDeploy(flags, previous, io);
  if (flags.completeCur || flags.completePrev) {
    throw new ZddError({
      kind: 'invalid-arg',
      message: 'Cannot use --complete-cur, --complete-prev flags when config is not hybrid',
    });
  }

  const next = unwrap(prepareDeploy(flags, previous, app, io.now()));
  io.log.info('Final app definition:');
  io.out(pyJsonDumps(next, { indent: 2, sortKeys: true }) + '\n');
  if (flags.dryRun) return done('dry run: nothing deployed');
  if (!flags.force && !(await io.confirm('Continue with deployment?')))
    return declined('deployment not confirmed: nothing deployed');

  await io.createApp(next);
  const current = lastDeploy(previous);
  if (current === undefined) return done(`first deploy: ${String(next['id'])} created, nothing to swap`);
  return swapApps(flags, String(next['id']), current.id, io);
}

async function resumeDeploy(flags: ZddFlags, previous: readonly ZddApp[], io: ZddIo): Promise<ZddOutcome> {
  const [newest, before] = lastTwoDeploys(previous)!;
  const colour = (a: ZddApp): string => a.labels['HAPROXY_DEPLOYMENT_COLOUR'] ?? '(no colour)';
  const describe = (oldApp: ZddApp, newApp: ZddApp): void =>
    io.log.info(`Considering ${colour(oldApp)} color as existing app and ${colour(newApp)} color as new app`);
  if (flags.completeCur) {
    io.log.info('Converting all instances to current config');
    io.log.info(`Current config color is ${colour(newest)}`);
    describe(before, newest);
    return swapApps(flags, newest.id, before.id, io);
  }
  if (flags.completePrev) {
    io.log.info('Converting all instances to previous config');
    io.log.info(`Previous config color is ${colour(before)}`);
    describe(newest, before);
    return swapApps(flags, before.id, newest.id, io);
  }
  if (flags.resume) {
    io.log.info('Found previous deployment, resuming');
    return swapApps(flags, newest.id, before.id, io);
  }
  const ids = previous.map((a) => a.id).join(', ');
  throw new ZddError({
    kind: 'other',
    message: `There appears to be an existing deployment in progress (${ids}): use --resume, --complete-cur or --complete-prev`,
  });
}

/** The swap loop; ends when the old app is deleted (or kept, for a hybrid deploy), or a prompt is declined. */
async function swapApps(flags: ZddFlags, newId: string, oldId: string, io: ZddIo): Promise<ZddOutcome> {
  let deploying = false; // said once at info per wait: a deployment that never ends was a silent wait
  for (;;) {
    const oldApp = await io.getApp(oldId);
    const newApp = await io.getApp(newId);
    if (newApp.deployments.length > 0) {
      const line = `${newApp.id}: Marathon deployment in progress, waiting ${flags.stepDelay} s`;
      if (deploying) io.log.debug(line);
      else io.log.info(`${line} (and until it ends: see the app's deployment in Marathon)`);
      deploying = true;
      await io.sleep(flags.stepDelay);
      continue;
    }
    deploying = false;
    const toKill = await findTasksToKill(flags, newApp, oldApp, io);

    if (readyToDeleteOldApp(flags, newApp, oldApp, toKill)) return deleteOldApp(flags, oldApp, newApp, io);

    if (toKill.length > 0) {
      if (flags.preKillHook !== undefined) {
        io.log.info(`Calling pre-kill hook '${flags.preKillHook}'`);
        await io.runHook(flags.preKillHook, [pyJsonDumps(oldApp), pyJsonDumps(toKill), pyJsonDumps(newApp)]);
      }
      // A record per task: the log keeps one record on one line (a line feed would be printed as \n).
      io.log.info(`There are ${toKill.length} draining listeners, about to kill the following tasks:`);
      for (const task of toKill) io.log.info(`  - ${task}`);
      if (!flags.force && !(await io.confirm('Continue?')))
        return declined(`killing ${toKill.length} task(s) of ${oldApp.id} not confirmed: deploy stopped`);
      io.log.info(`Scaling down old app by ${toKill.length} instances`);
      await io.killTasks(toKill);
    }

    if (needsScaleUp(flags, newApp)) {
      const instances = nextInstances(flags, newApp, oldApp);
      io.log.info(`Scaling new app up to ${instances} instances`);
      await io.scaleApp(newApp.id, instances);
    }
  }
}

async function deleteOldApp(flags: ZddFlags, oldApp: ZddApp, newApp: ZddApp, io: ZddIo): Promise<ZddOutcome> {
  if (isHybrid(flags, newApp)) {
    io.log.info('Not deleting old app, as its hybrid configuration');
    return done(
      `hybrid deploy in place: ${newApp.id} ${newApp.instances} instance(s), ${oldApp.id} ${oldApp.instances} instance(s)`,
    );
  }
  io.log.info(`About to delete old app ${oldApp.id}`);
  if (!flags.force && !(await io.confirm('Continue?')))
    return declined(`deleting ${oldApp.id} not confirmed: both apps left running`);
  await io.deleteApp(oldApp.id);
  return done(`deploy complete: ${newApp.id} serves ${deploymentTarget(newApp)} instance(s), ${oldApp.id} deleted`);
}
