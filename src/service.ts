import * as fs from 'node:fs';
import * as path from 'node:path';
import { Observable, Subject, asapScheduler, asyncScheduler, fromEvent, interval, map, merge } from 'rxjs';
import { adminSignalUrl, startAdminServer, type AdminServer } from './admin/server';
import { lockConfigDir, lockRuntimeFile, type HeldLock } from './haproxy/dirLock';
import { packageVersion } from './admin/buildInfo';
import { HaproxyState } from './admin/haproxyState';
import { MarathonState } from './admin/marathonState';
import { ControllerMetrics } from './admin/metrics';
import { sharedBoundedRead } from './admin/sharedRead';
import { HAPROXY_SILENT_MS, StatusBook } from './admin/statusBook';
import { createController } from './controller';
import { HaproxyApplier } from './haproxy/applier';
import { systemClock } from './haproxy/clock';
import { CommandHaproxy } from './haproxy/command';
import { ConfigFiles } from './haproxy/configFiles';
import { MAX_READ_BYTES } from './haproxy/files';
import { readRegularFileBounded } from './boundedRead';
import { haproxyEnvironment } from './haproxy/env';
import { readFdEnvironment } from './haproxy/limits';
import { whyUnbindable } from './haproxy/portHeld';
import { OwnedHaproxy } from './haproxy/owned';
import { exitCause, HaproxyProcess } from './haproxy/process';
import type { HaproxyTarget } from './haproxy/target';
import { takeOverLeftovers } from './haproxy/takeover';
import { ServedMark } from './haproxy/servedMark';
import { checkConfig } from './haproxy/validate';
import { masterSocketStateReader } from './haproxy/stateReader';
import { statRows, type StatSample } from './haproxy/stats';
import { describeTarget, formatVersion, resolveHaproxyVersion } from './haproxy/version';
import type { Logger } from './log';
import { portHoldersInConfig, renderConfig, type PortHolders } from './render/render';
import { healthChanges } from './streams/healthChanges';
import { pollEvery } from './streams/pollEvery';
import { spacedReloads } from './admin/spacedReloads';
import type { TemplateSet } from './render/templates';
import { err, ok, type Result } from './result';
import type { ServiceParts } from './wiring/marathonClient';
import type { ControlSignal } from './reconcile/pipeline';
import { ensureConfigDirectory, ensureDirectory } from './ensureDirectory';

/**
 * At most this many rows of `show stat` read a second, whatever --haproxy-stats-interval says: at
 * 10 000 backends a read has 40 000 rows (~20 MB that HAProxy formats, its master relays and the
 * controller parses), and one every 2 s slowed routing changes that met it. Then a read every 16 s;
 * up to 5 000 rows (about 1 200 backends), every 2 s as asked.
 */
const STAT_ROWS_PER_SECOND = 2500;
/** The longest a small `show stat` slowed by a stall holds the next one back (ms). */
const STALLED_READ_HOLD_MS = 20_000;
/** The longest a `show stat` that timed out or failed late holds the next one back (ms). */
const FAILED_READ_HOLD_MS = 10_000;
/** The longest one `show stat` may take in all, while HAProxy keeps sending it. */
const STATS_READ_LIMIT_MS = 30_000;
/** A `show stat` that found no master socket file (nothing listens on it: ENOENT). */
const SOCKET_FILE_GONE = /\(ENOENT\)/;
/** How long a stop waits for an apply it cut short to put the last good files back. */
const APPLY_AFTER_STOP_MS = 10_000;
/** How long a scrape waits for HAProxy's `show proc` before its worker gauges say unknown (ms). */
const SCRAPE_READ_MS = 2_000;
/** How often /healthz's verdict is read to log its changes. */
const HEALTH_LOG_PERIOD_MS = 5_000;

export interface RunningService {
  readonly admin: AdminServer | null;
  /** The HAProxy this service owns (never started in --command mode, where the operator's command reloads theirs). */
  readonly haproxy: HaproxyProcess;
  /**
   * --command without --sse: marathon-lb's one pass — resolves with the exit code once the first
   * snapshot was applied (0) or could not be (1). Undefined in the long-running modes.
   */
  readonly onePass?: Promise<number>;
  readonly status: StatusBook;
  readonly metrics: ControllerMetrics;
  /** SIGHUP / SIGUSR1 equivalents (tests, the demo). */
  readonly signals: Subject<ControlSignal>;
  /** Stops the controller and, unless attached or told to leave it running, HAProxy. */
  stop(): Promise<void>;
  /** Host-name lookups that would keep the process alive after stop (a name server that does not answer). */
  lookupsPending(): boolean;
}

export interface ServiceDeps {
  /** What the flags say, as wiring/marathonClient.ts' serviceParts maps them (with the Marathon client). */
  readonly parts: ServiceParts;
  readonly templates: TemplateSet;
  readonly logger: Logger;
  /** Listen to the process's SIGHUP/SIGUSR1 (false for in-process use, e.g. tests). */
  readonly processSignals: boolean;
}

/** The least time between two reloads asked over HTTP (/_mlb_signal/usr1): marathon-lb's --reload-interval default. */
const HTTP_RELOAD_SPACING_MS = 10_000;

/** How often the lock files are looked at (written again when gone). */
const LOCK_CHECK_MS = 5000;

/** The live service: Marathon → pipeline → a real HAProxy, plus the admin API. The one place that constructs it all. */
export async function startService(deps: ServiceDeps): Promise<Result<RunningService>> {
  const { logger } = deps;
  const { service: s, controller: settings, client } = deps.parts;

  const configDir = path.dirname(s.process.configPath);
  const made = ensureConfigDirectory(configDir);
  if (!made.ok) return made;
  const locked = lockedForThisController(configDir, s.command === undefined ? s.process : null);
  if (!locked.ok) return locked;
  const unlock = locked.value.release;
  const { pidFile } = s;
  try {
    fs.writeFileSync(pidFile, `${process.pid}\n`);
  } catch (e) {
    logger.warn(
      `cannot write pid file ${pidFile} (${(e as NodeJS.ErrnoException).code}): /_mlb_signal/* will not reach this process`,
    );
  }
  // HAProxy expands ${VAR} in its config, and app owners write part of it: it gets no secret of ours.
  const signalUrl = s.admin === null ? undefined : adminSignalUrl(s.admin.bind, s.admin.port);
  const haproxyEnv = haproxyEnvironment(
    {
      ...process.env,
      MARATHON_LB_PID_FILE: pidFile,
      MARATHON_LB_HAPROXY_CONFIG: s.process.configPath,
      MARATHON_LB_SIGNAL_URL: signalUrl,
    },
    s.secrets,
  );
  if (haproxyEnv.dropped.length > 0)
    logger.info(
      `HAProxy is started without the controller's own settings (MLB_*) and secret variables: ${haproxyEnv.dropped.join(', ')}`,
    );
  const haproxy = new HaproxyProcess({
    ...s.process,
    logger,
    env: haproxyEnv.env,
    fdEnvironment: () => readFdEnvironment(),
  });
  /**
   * A start that fails: nothing may keep the process alive (a watch timer, an adopted master's), so a
   * supervisor sees it exit. No HAProxy was started yet; one adopted from an earlier controller keeps serving.
   */
  const abandon = (why: string): Result<never> => {
    haproxy.release();
    removeOwnPidFile(pidFile);
    unlock();
    return err(why);
  };
  const external = s.command !== undefined;
  let replaceAdopted = false;
  /** A master an earlier controller left (or one attached to), running as this one would run it. */
  let adoptedMaster: number | undefined;
  if (!s.attach && !external) {
    // One HAProxy, always: adopt or stop a master an earlier controller left before a new one binds.
    const taken = await takeOverLeftovers({
      haproxy,
      configPath: s.process.configPath,
      masterSocketPath: s.process.masterSocketPath,
      pidFile: s.process.pidFile,
      env: haproxyEnv.env,
      logger,
      waitsMs: s.process.stopWaitsMs,
    });
    if (!taken.ok) return abandon(taken.error);
    replaceAdopted = taken.value.kind === 'adopted' && taken.value.replace;
    if (taken.value.kind === 'adopted' && !taken.value.replace) adoptedMaster = taken.value.masterPid;
  }
  if (s.attach && !external) {
    const attached = await haproxy.attach();
    if (!attached.ok) return abandon(`--haproxy-attach: ${attached.error.message}`);
    logger.info(`attached to HAProxy master ${attached.value.masterPid}`);
    adoptedMaster = attached.value.masterPid;
  }
  // A stop kills the `haproxy -c` under way: its verdict no longer matters, and it may take 30 s.
  const stopChecks = new AbortController();
  const signals = new Subject<ControlSignal>();
  const files = new ConfigFiles({
    ...s.files,
    logger,
    onUnwritten: () => signals.next('files-unwritten'),
    validate: s.validate ? (cfg) => checkConfig(s.process.bin, cfg, 30000, haproxyEnv.env, stopChecks.signal) : null,
  });
  const { retry } = s;
  const command =
    s.command === undefined
      ? undefined
      : new CommandHaproxy({ command: s.command, retry, clock: systemClock, logger, env: haproxyEnv.env });
  const target: HaproxyTarget =
    command ??
    new OwnedHaproxy({
      process: haproxy,
      files,
      runtimeFiles: [s.process.masterSocketPath, s.process.pidFile],
      replaceAdopted,
      whyUnbindable,
      retry,
      clock: systemClock,
      logger,
    });
  if (command) logger.info(`--command mode: HAProxy is not started by this controller; "${s.command}" reloads it`);
  logger.info(describeTarget(s.haproxyVersion, s.process.bin));
  const servedMark = command ? undefined : new ServedMark(`${s.process.pidFile}.served`, files.paths);
  const applier = new HaproxyApplier({
    target,
    files,
    logger,
    // The running master's limit, which its reloads keep; this process's for a master yet to start.
    ...(command ? {} : { fdEnvironment: () => readFdEnvironment({}, haproxy.localMasterPid()) }),
    render: (services) => renderConfig(services, deps.templates, settings.render),
    leaveOutRejected: s.cleanup,
    // Beside HAProxy's pid file: both are about the processes running now, gone with a reboot.
    ...(servedMark === undefined ? {} : { servedMark, adoptedMaster }),
  });

  const osSignals: Observable<ControlSignal> = deps.processSignals
    ? merge(
        fromEvent(process, 'SIGHUP').pipe(map(() => 'hup' as const)),
        fromEvent(process, 'SIGUSR1').pipe(map(() => 'usr1' as const)),
      )
    : new Subject<ControlSignal>();
  // HAProxy died under us: SIGUSR1's path (validate, then reload or start) brings it back with the config on disk.
  const stopExits = haproxy.onExit((code, signal, info) => {
    if (info.expected) return;
    logger.error(`HAProxy exited unexpectedly${exitCause(code, signal)}; restarting it with the last good config`);
    signals.next('haproxy-exited');
  });

  const now = (): number => asyncScheduler.now();
  // What the admin API shows beside the pipeline: Marathon's connection, HAProxy's own view (show stat).
  const marathon = new MarathonState({ now, ...s.marathonState });
  const statsMs = s.statsIntervalMs;
  const statsSpacingMs = (sample: StatSample): number => (statRows(sample) / STAT_ROWS_PER_SECOND) * 1000;
  const haproxyState = new HaproxyState({ now, enabled: statsMs > 0, intervalMs: statsMs, spacingMs: statsSpacingMs });
  const shared = {
    now,
    marathon,
    // The status book is made below; read at scrapes only.
    staleReason: () => status.staleReason(),
    haproxyState,
    processMetrics: true,
    build: {
      version: packageVersion(),
      haproxyVersion: formatVersion(resolveHaproxyVersion(s.haproxyVersion, s.process.bin)),
    },
  };
  // One `show proc` for a scrape's two gauges; Prometheus waits 10 s at most.
  const processes = sharedBoundedRead(
    async () => {
      const p = await haproxy.showProc();
      return p.ok ? p.value : null;
    },
    SCRAPE_READ_MS,
    asyncScheduler,
  );
  const metrics = new ControllerMetrics(
    command
      ? shared
      : {
          ...shared,
          haproxyWorkers: async () => {
            const p = await processes();
            return p === null ? null : p.workers.length + p.oldWorkers.length;
          },
          haproxyOldWorkers: async () => (await processes())?.oldWorkers.length ?? null,
        },
  );
  let settleOnePass: ((code: number) => void) | undefined;
  const onePass = s.onePass ? new Promise<number>((resolve) => (settleOnePass = resolve)) : undefined;
  let connects = 0;
  let streamUrl = ''; // the event stream last answered (its connected item), for the log
  const reloadedHaproxy = new Subject<void>();
  const { run$, applied, lookupsPending } = createController({
    settings,
    client,
    templates: deps.templates,
    haproxy: applier,
    logger,
    scheduler: asyncScheduler,
    turnScheduler: asapScheduler,
    random: Math.random,
    signals$: merge(signals, osSignals),
    observers: [
      (e) => marathon.observe(e),
      (e) => metrics.observe(e),
      (e) => status.observe(e),
      (e) => {
        // HAProxy (re)started: its servers are read now, not at the next tick of the stats reads.
        if (e.kind === 'applied' && e.report.reloaded) reloadedHaproxy.next();
      },
      (e) => {
        if (e.kind === 'applied' || e.kind === 'unchanged') settleOnePass?.(0);
        else if (e.kind === 'apply-failed' || e.kind === 'fetch-failed' || e.kind === 'snapshot-invalid')
          settleOnePass?.(1);
      },
    ],
    onStreamConnected: () => {
      if (connects++ > 0) metrics.streamReconnected();
    },
    onStreamItem: (item) => {
      if (item.kind === 'connected') {
        streamUrl = item.url;
        return;
      }
      // A heartbeat, or an event (Marathon's event_stream_attached first): connected from these bytes,
      // as /status says, not from the headers (events.ts logs those at debug).
      if (marathon.streamReceived()) logger.info(`connected to Marathon event stream ${streamUrl}`);
      if (item.kind === 'event') marathon.eventReceived();
    },
    onStreamLost: () => marathon.streamLost(),
    ...startingPortHolders(s.process.configPath),
  });
  const status = new StatusBook({ applied, now, ...s.status, marathon, haproxy: haproxyState });
  const healthLog = healthChanges(() => status.health(), HEALTH_LOG_PERIOD_MS, asyncScheduler).subscribe((h) => {
    if (h.healthy) logger.info('healthy again: /healthz answers 200');
    else logger.warn(`unhealthy: ${h.reason} (/healthz answers 503)`);
  });
  // The locks, written again when they are gone (lockedForThisController); each trouble said once while it lasts.
  let lockTrouble = '';
  const lockWatch = interval(LOCK_CHECK_MS, asyncScheduler).subscribe(() => {
    const { errors, written } = locked.value.keep();
    if (written > 0)
      logger.warn(`${written} of this controller's lock files were gone (removed by hand?): written again`);
    const trouble = errors.join('; ');
    if (trouble !== '' && trouble !== lockTrouble) logger.error(`lock files: ${trouble}`);
    lockTrouble = trouble;
  });
  let socketGoneReads = 0;
  let silentReloadAsked = false;
  let answeredBy: number | undefined; // the master whose socket last answered a read
  // One `show stat` per interval on a connection of its own, never two at once, none while HAProxy is down.
  const statsTimeoutMs = Math.min(5000, Math.max(500, statsMs));
  const stats =
    statsMs <= 0
      ? null
      : pollEvery(
          masterSocketStateReader(
            s.process.masterSocketPath,
            statsTimeoutMs,
            () => haproxy.masterPid() !== undefined,
            now,
            asyncScheduler,
          ),
          // At most a fiftieth of the time: HAProxy formats the rows on its event loop, and requests
          // through it wait meanwhile. At 10 000 backends (50 000 rows) a read took ~1–1.3 s on the 2-core
          // machine and slowed the scale-ups it met to 150–950 ms (bench:scale p99 175–316 ms with a
          // tenth; 102–180 ms in six runs with a fiftieth). Small configs read in ~10 ms: every 2 s as asked.
          {
            intervalMs: statsMs,
            // HAProxy's silence is judged by the socket (statsTimeoutMs without a byte); the whole read
            // may take longer: a big `show stat` taken in while this process is busy (a flood of events)
            // was cut at 2 s and HAProxy called down while it answered (found by a flood test).
            timeoutMs: STATS_READ_LIMIT_MS,
            refusedWithinMs: statsTimeoutMs / 4,
            scheduler: asyncScheduler,
            // A read slowed by a stall, not by its size, holds the next back 20 s at most (3 × its
            // size's spacing for a big config), and a failed one 10 s: /healthz's 30 s of silence
            // mean HAProxy was asked again and did not answer, /status's figures stay fresh.
            share: {
              factor: 50,
              clock: () => performance.now(),
              most: (sample) => Math.max(STALLED_READ_HOLD_MS, 3 * statsSpacingMs(sample)),
              mostAfterFailure: FAILED_READ_HOLD_MS,
            },
            spacing: statsSpacingMs,
            readNow: reloadedHaproxy,
          },
        ).subscribe((r) => {
          if (r.ok) logger.debug(`show stat: ${statRows(r.value)} rows read in ${Math.round(now() - r.value.at)} ms`);
          haproxyState.observe(r);
          // The master socket file is gone (removed by hand, a temp cleaner) while the master that answered
          // on it runs: HAProxy serves, but nothing reads or reloads it, and /healthz called it down after
          // 30 s until some change came. A reload by signal binds it again; asked once per such spell
          // (operator test). Not while a master starts (10 000 backends: seconds before it binds the socket).
          const master = haproxy.masterPid();
          if (r.ok) answeredBy = master;
          const gone = !r.ok && SOCKET_FILE_GONE.test(r.error) && master !== undefined && master === answeredBy;
          if (gone && socketGoneReads++ === 1) signals.next('master-socket-gone');
          if (!gone) socketGoneReads = 0;
          // Running and silent for as long as /healthz allows (a worker stopped or wedged, adopted or
          // not): on a quiet cluster nothing else reloaded it, and no request got through for good (an
          // operator audit). A reload's new worker serves; the old one is killed as wedged. Once a spell.
          const silent = haproxyState.silentForMs();
          if (r.ok) silentReloadAsked = false;
          else if (!silentReloadAsked && master !== undefined && silent !== null && silent > HAPROXY_SILENT_MS) {
            silentReloadAsked = true;
            logger.warn(
              `HAProxy has not answered for ${Math.round(silent / 1000)} s: reloading it with the config on disk (a new worker), once it answers again only if its worker does not`,
            );
            signals.next('haproxy-silent');
          }
        });
  // Asked over HTTP (HAProxy's stats port forwards /_mlb_signal/* here, for anyone who reaches it):
  // reloads spaced out (spacedReloads.ts). An operator's own SIGUSR1 is not.
  const askedOverHttp = new Subject<'hup' | 'usr1'>();
  const httpSignals = askedOverHttp
    .pipe(spacedReloads(HTTP_RELOAD_SPACING_MS, asyncScheduler))
    .subscribe((sig) => signals.next(sig));
  let admin: AdminServer | null = null;
  if (s.admin !== null) {
    try {
      admin = await startAdminServer({
        ...s.admin,
        metrics,
        status,
        health: () => status.health(),
        logger,
        signal: (sig) => askedOverHttp.next(sig),
      });
    } catch (e) {
      stats?.unsubscribe();
      healthLog.unsubscribe();
      lockWatch.unsubscribe();
      httpSignals.unsubscribe();
      stopExits();
      command?.close();
      return abandon((e as Error).message); // it names the admin API and its address
    }
  }
  const sub = run$.subscribe({ error: (e: unknown) => logger.error(`controller stopped: ${(e as Error).message}`) });
  return ok({
    admin,
    haproxy,
    status,
    metrics,
    signals,
    ...(onePass ? { onePass } : {}),
    lookupsPending,
    stop: async () => {
      sub.unsubscribe();
      stats?.unsubscribe();
      healthLog.unsubscribe();
      lockWatch.unsubscribe();
      httpSignals.unsubscribe();
      stopExits();
      command?.close();
      const leave = s.leaveRunning;
      if (leave) haproxy.release(); // an apply still under way can no longer start or reload it
      // The config written behind the last runtime change is what the next controller finds.
      const stopping = Promise.all([admin?.close(), leave ? undefined : haproxy.stop(), files.written()]);
      stopChecks.abort(); // once HAProxy is marked stopping: the apply it cuts short ends without a search
      await stopping;
      // An apply the stop cut short puts the last good files back first (bounded: it may be in a
      // `haproxy -c`); then nothing more is written, since whoever started this may remove the directory.
      await settledWithin(applier.settled(), APPLY_AFTER_STOP_MS);
      files.close();
      await files.written();
      // A stopped HAProxy runs nothing: a note naming its processes would only outlive them.
      if (!leave) await servedMark?.clear().catch(() => undefined);
      if (s.handOver)
        logger.info(`leaving HAProxy master ${haproxy.masterPid() ?? '(none)'} running for the next controller`);
      removeOwnPidFile(pidFile);
      unlock();
    },
  });
}

/**
 * The config directory locked for this controller, and the master socket and pid file of the
 * HAProxy it drives (`runtime`; none in --command mode): what releases them all, and what writes
 * again those that are gone (HeldLock.keep; the errors of those it cannot keep).
 */
function lockedForThisController(
  configDir: string,
  runtime: { readonly masterSocketPath: string; readonly pidFile: string } | null,
): Result<{ readonly release: () => void; readonly keep: () => { errors: string[]; written: number } }> {
  const held: HeldLock[] = [];
  const release = (): void => held.splice(0).forEach((lock) => lock.release());
  const keep = (): { errors: string[]; written: number } => {
    const errors: string[] = [];
    let written = 0;
    for (const lock of held) {
      const r = lock.keep();
      if (!r.ok) errors.push(r.error);
      else if (r.value === 'written') written++;
    }
    return { errors, written };
  };
  const locks: (() => Result<HeldLock>)[] = [() => lockConfigDir(configDir)];
  if (runtime !== null) {
    for (const [file, flag] of [
      [runtime.masterSocketPath, '--haproxy-master-socket'],
      [runtime.pidFile, '--haproxy-pid-file'],
    ] as const) {
      // Its directory is made here (HAProxy needs it anyway); one that cannot be is named when HAProxy starts.
      try {
        ensureDirectory(path.dirname(file));
      } catch {
        continue;
      }
      locks.push(() => lockRuntimeFile(file, flag));
    }
  }
  for (const lock of locks) {
    const r = lock();
    if (!r.ok) {
      release();
      return r;
    }
    held.push(r.value);
  }
  return ok({ release, keep });
}

/** The service ports' holders in the config a restarted controller finds (what HAProxy may still serve). */
function startingPortHolders(configPath: string): { startingPortHolders?: PortHolders } {
  try {
    // Bounded, and only a regular file: a FIFO or a link to /dev/full there held the start for good (helper 72).
    return { startingPortHolders: portHoldersInConfig(readRegularFileBounded(configPath, MAX_READ_BYTES).toString()) };
  } catch {
    return {}; // none yet (a first start), or nothing a config can be read from: the first apply replaces it
  }
}

/** The pid file, when it still names this process (a later controller may have written its own). */
function removeOwnPidFile(pidFile: string): void {
  try {
    if (readRegularFileBounded(pidFile, 4096).toString().trim() === String(process.pid)) fs.rmSync(pidFile);
  } catch {
    // already gone
  }
}

/** `work` settled, or `ms` passed. */
function settledWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([work, bound]).finally(() => clearTimeout(timer));
}
