import { deploymentTarget, newInstanceCount, type ZddApp } from './app';

/**
 * How far the new colour grows at each step, and when the old one may go (zdd.py's
 * scale_new_app_instances, is_hybrid_deployment, ready_to_delete_old_app). Pure.
 */

export interface ScaleFlags {
  /** --linear-increase: grow by this many per step; 0 grows by half of the current count. */
  readonly linearIncrease: number;
  readonly completeCur: boolean;
  readonly completePrev: boolean;
}

/** A hybrid deploy keeps both colours, with HAPROXY_DEPLOYMENT_NEW_INSTANCES of the new one, unless asked to complete it. */
export const isHybrid = (flags: ScaleFlags, newApp: ZddApp): boolean =>
  newInstanceCount(newApp) !== 0 && !flags.completeCur && !flags.completePrev;

/** The instance count the new app scales to next (never beyond its hybrid share or its target). */
export function nextInstances(flags: ScaleFlags, newApp: ZddApp, oldApp: ZddApp): number {
  const linear = flags.linearIncrease > 0;
  let n = linear ? newApp.instances + flags.linearIncrease : Math.floor(newApp.instances + (newApp.instances + 1) / 2);
  if (isHybrid(flags, newApp)) n = Math.min(n, newInstanceCount(newApp));
  else if (linear) n = Math.min(n, deploymentTarget(newApp));
  // Once the new colour is as large as the old one, it goes straight to its target.
  else if (n >= oldApp.instances) n = deploymentTarget(newApp);
  return n;
}

/** Whether the new app still has to grow this step. */
export function needsScaleUp(flags: ScaleFlags, newApp: ZddApp): boolean {
  return newApp.instances < (isHybrid(flags, newApp) ? newInstanceCount(newApp) : deploymentTarget(newApp));
}

/**
 * The old app can be deleted once the new one is at its target and all old tasks are being drained
 * — or, for a hybrid deploy, once both colours hold their shares (then the old app is kept).
 */
export function readyToDeleteOldApp(
  flags: ScaleFlags,
  newApp: ZddApp,
  oldApp: ZddApp,
  drainingTaskIds: readonly string[],
): boolean {
  const share = newInstanceCount(newApp);
  if (isHybrid(flags, newApp))
    return newApp.instances === share && oldApp.instances === deploymentTarget(oldApp) - share;
  return newApp.instances === deploymentTarget(newApp) && drainingTaskIds.length === oldApp.instances;
}
