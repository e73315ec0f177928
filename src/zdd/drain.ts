import { deploymentTarget, type ZddApp } from './app';
import { ZddError } from './errors';
import type { ZddIo } from './io';
import {
  appListeners,
  drainedTaskIds,
  drainingTaskIds,
  parseHaproxyStats,
  waitingForDrainedListeners,
  waitingForListeners,
  waitingForUpListeners,
  type Listener,
} from './stats';

export interface DrainFlags {
  /** --step-delay (s) between two looks at marathon-lb. */
  readonly stepDelay: number;
  /** --max-wait (s): then tasks still draining are taken as they are. */
  readonly maxWait: number;
}

/** Every marathon-lb's stats, joined: rows of the deployment group's backend only. */
async function fetchAppListeners(app: ZddApp, urls: readonly string[], io: ZddIo): Promise<Listener[]> {
  const csv = await Promise.all(urls.map((u) => io.haproxyStats(u)));
  return appListeners(
    app,
    // Which marathon-lb answered so, when there are several (the message names them all).
    csv.flatMap((text, i) => statsOf(text, urls.length > 1 ? urls[i] : undefined)),
  );
}

function statsOf(text: string, url: string | undefined): Listener[] {
  try {
    return parseHaproxyStats(text);
  } catch (e) {
    if (url === undefined) throw e;
    throw new Error(`${url}: ${(e as Error).message}`, { cause: e });
  }
}

/** A marathon-lb with more than master and one worker is reloading; an unreadable one is taken as reloading too. */
async function anyReloading(urls: readonly string[], io: ZddIo): Promise<boolean> {
  const states = await Promise.all(
    urls.map(async (u) => {
      let pids: string[];
      try {
        pids = (await io.haproxyPids(u)).split(/\s+/).filter((p) => p !== '');
      } catch (e) {
        io.log.warn(`cannot read HAProxy pids from ${u}: ${e instanceof Error ? e.message : String(e)}`);
        return true;
      }
      if (pids.length > 2) io.log.info(`Waiting for ${pids.length} pids on ${u}`);
      return pids.length > 2;
    }),
  );
  return states.some((s) => s);
}

/**
 * zdd.py's find_tasks_to_kill: every --step-delay, once no marathon-lb is reloading, it serves both
 * colours' tasks, the new app's target of servers is UP and some old server is drained, the old
 * tasks drained on every marathon-lb are returned. After --max-wait, those still draining are.
 */
export async function findTasksToKill(flags: DrainFlags, newApp: ZddApp, oldApp: ZddApp, io: ZddIo): Promise<string[]> {
  const started = io.now().getTime();
  const urls = await io.marathonLbUrls();
  const n = urls.length;
  let listeners: Listener[];
  try {
    listeners = await fetchAppListeners(newApp, urls, io);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ZddError({
      kind: 'marathon-lb-endpoint',
      message: `Error while querying Marathon-LB ${urls.join(', ')}: ${why}`,
    });
  }
  const ips = await io.resolveHosts(oldApp.tasks.map((t) => t.host ?? ''));
  while (io.now().getTime() - started < flags.maxWait * 1000) {
    await io.sleep(flags.stepDelay);
    io.log.info(`Existing app running ${oldApp.instances} instances, new app running ${newApp.instances} instances`);
    if (await anyReloading(urls, io)) continue;
    try {
      listeners = await fetchAppListeners(newApp, urls, io);
    } catch (e) {
      // May happen while marathon-lb reloads: look again next step.
      io.log.warn(`cannot read HAProxy stats: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    io.log.info(`Found ${listeners.length} app listeners across ${n} HAProxy instances`);
    if (waitingForListeners(newApp, oldApp, listeners, n)) continue;
    if (waitingForUpListeners(deploymentTarget(newApp), listeners, n)) continue;
    if (waitingForDrainedListeners(listeners)) continue;
    return drainedTaskIds(oldApp, listeners, n, ips);
  }
  // zdd.py went on from here whatever marathon-lb showed: with the new tasks DOWN in HAProxy (failing
  // its checks while Marathon said healthy) it killed the old ones and deleted their app, and the
  // deploy "completed" into an outage; with no server of the group there (another marathon-lb's -l)
  // it grew the new app at each --max-wait, for good (an audit). Only a drain that takes too long goes on.
  const target = deploymentTarget(newApp);
  const waited = `after --max-wait (${flags.maxWait} s): nothing of ${oldApp.id} was killed or deleted`;
  if (listeners.length === 0)
    throw new ZddError({
      kind: 'marathon-lb-endpoint',
      message: `marathon-lb ${urls.join(', ')} serves no server of ${newApp.id}'s deployment group ${waited} (is -l the marathon-lb of the app's HAPROXY_GROUP?)`,
    });
  if (waitingForUpListeners(target, listeners, n))
    throw new ZddError({
      kind: 'other',
      message: `fewer than ${target} servers of ${newApp.id}'s deployment group are UP in HAProxy ${waited} (do the new tasks fail HAProxy's health checks?): use --resume once they are UP, or --complete-prev to go back`,
    });
  io.log.info('Timed out waiting for tasks to fully drain, find any draining tasks and continue with deployment...');
  return drainingTaskIds(oldApp, listeners, n, ips);
}
