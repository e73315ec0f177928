import * as fs from 'node:fs';
import * as path from 'node:path';
import { Observable, Subject, asyncScheduler, fromEvent, map, merge } from 'rxjs';
import { startAdminServer, type AdminServer } from './admin/server';
import { ControllerMetrics } from './admin/metrics';
import { StatusBook } from './admin/statusBook';
import type { Options } from './cli/options';
import { createController } from './controller';
import { HaproxyApplier } from './haproxy/applier';
import { haproxyEnvironment } from './haproxy/env';
import { readFdEnvironment } from './haproxy/limits';
import { HaproxyProcess } from './haproxy/process';
import { takeOverLeftovers } from './haproxy/takeover';
import type { Logger } from './log';
import { marathonClientFromOptions } from './marathon/fromOptions';
import { renderConfig } from './render/render';
import { renderOptions } from './render/snapshot';
import type { TemplateSet } from './render/templates';

export interface RunningService {
  readonly admin: AdminServer | null;
  readonly haproxy: HaproxyProcess;
  readonly status: StatusBook;
  readonly metrics: ControllerMetrics;
  /** SIGHUP / SIGUSR1 equivalents (tests, the demo). */
  readonly signals: Subject<'hup' | 'usr1'>;
  /** Stops the controller and, unless attached or told to leave it running, HAProxy. */
  stop(): Promise<void>;
}

export interface ServiceDeps {
  readonly options: Options;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly templates: TemplateSet;
  readonly logger: Logger;
  /** Listen to the process's SIGHUP/SIGUSR1 (false for in-process use, e.g. tests). */
  readonly processSignals: boolean;
  /** Where HAProxy's Lua finds the pid to signal for /_mlb_signal/* (written by this service). */
  readonly pidFile?: string;
}

/** The live service: Marathon → pipeline → a real HAProxy, plus the admin API. The one place that constructs it all. */
export async function startService(deps: ServiceDeps): Promise<RunningService | { readonly error: string }> {
  const { options: o, logger } = deps;
  const client = marathonClientFromOptions(o, logger);
  if ('error' in client) return client;

  const configDir = path.dirname(o.haproxyConfig);
  try {
    fs.mkdirSync(configDir, { recursive: true });
  } catch (e) {
    return { error: `cannot create ${configDir} for --haproxy-config: ${(e as NodeJS.ErrnoException).code}` };
  }
  const pidFile = deps.pidFile ?? deps.env['MARATHON_LB_PID_FILE'] ?? '/var/run/marathon-lb.pid';
  try {
    fs.writeFileSync(pidFile, `${process.pid}\n`);
  } catch (e) {
    logger.warn(`cannot write pid file ${pidFile} (${(e as NodeJS.ErrnoException).code}): /_mlb_signal/* will not reach this process`);
  }
  // HAProxy expands ${VAR} in its config, and app owners write part of it: it gets no secret of ours.
  const haproxyEnv = haproxyEnvironment({ ...process.env, MARATHON_LB_PID_FILE: pidFile, MARATHON_LB_HAPROXY_CONFIG: o.haproxyConfig },
    [o.authCredentials, o.dcosAuthCredentials, o.adminToken, readSecretFile(o.marathonAuthCredentialFile)]);
  if (haproxyEnv.dropped.length > 0) logger.info(`HAProxy is started without the controller's secret variables: ${haproxyEnv.dropped.join(', ')}`);
  // HAProxy's stop (and a leftover's) fits in the shutdown bound: a reload under way ≤ soft, then soft, term, kill ≈ 0.85 of it.
  const budgetMs = o.shutdownTimeout * 1000;
  const stopWaitsMs = { soft: Math.min(10000, budgetMs * 0.3), term: Math.min(3000, budgetMs * 0.15), kill: Math.min(2000, budgetMs * 0.1) };
  const haproxy = new HaproxyProcess({
    bin: o.haproxyBin, configPath: o.haproxyConfig, masterSocketPath: o.haproxyMasterSocket, pidFile: o.haproxyPidFile, logger,
    env: haproxyEnv.env, stopWaitsMs, fdEnvironment: () => readFdEnvironment(),
  });
  if (!o.haproxyAttach) {
    // One HAProxy, always: adopt or stop a master an earlier controller left before a new one binds.
    const taken = await takeOverLeftovers({ haproxy, configPath: o.haproxyConfig, masterSocketPath: o.haproxyMasterSocket,
      pidFile: o.haproxyPidFile, env: haproxyEnv.env, logger, waitsMs: stopWaitsMs });
    if (!taken.ok) return { error: taken.message };
  }
  if (o.haproxyAttach) {
    const attached = await haproxy.attach();
    if (!attached.ok) return { error: `--haproxy-attach: ${attached.message}` };
    logger.info(`attached to HAProxy master ${attached.masterPid}`);
  }
  const applier = new HaproxyApplier({
    process: haproxy, bin: o.haproxyBin, configPath: o.haproxyConfig, haproxyMap: o.haproxyMap, skipValidation: o.skipValidation,
    archiveVersions: o.archiveVersions, hardStopAfterSeconds: o.hardStopAfter, validateTimeoutMs: 30000,
    fdEnvironment: () => readFdEnvironment(), logger, runtimeFiles: [o.haproxyMasterSocket, o.haproxyPidFile],
    render: o.skipConfigCleanup ? undefined : (services) => renderConfig(services, deps.templates, renderOptions(o, deps.env)),
  });

  const signals = new Subject<'hup' | 'usr1'>();
  const osSignals: Observable<'hup' | 'usr1'> = deps.processSignals
    ? merge(fromEvent(process, 'SIGHUP').pipe(map(() => 'hup' as const)), fromEvent(process, 'SIGUSR1').pipe(map(() => 'usr1' as const)))
    : new Subject<'hup' | 'usr1'>();
  // HAProxy died under us: SIGUSR1's path (validate, then reload or start) brings it back with the config on disk.
  const stopExits = haproxy.onExit((code, signal, info) => {
    if (info.expected) return;
    logger.error(`HAProxy exited unexpectedly (${signal ?? `code ${code}`}); restarting it with the last good config`);
    signals.next('usr1');
  });

  const now = (): number => asyncScheduler.now();
  const metrics = new ControllerMetrics({ now, haproxyWorkers: async () => {
    const p = await haproxy.showProc();
    return p.ok ? p.value.workers.length + p.value.oldWorkers.length : null;
  } });
  let connects = 0;
  const { run$, applied } = createController({
    options: o, env: deps.env, client, templates: deps.templates, haproxy: applier, logger, scheduler: asyncScheduler, random: Math.random,
    signals$: merge(signals, osSignals),
    observers: [(e) => metrics.observe(e), (e) => status.observe(e)],
    onStreamConnected: () => {
      if (connects++ > 0) metrics.streamReconnected();
    },
  });
  const status = new StatusBook({ applied, now, maxApplyAgeMs: o.maxApplyAge * 1000 });
  let admin: AdminServer | null = null;
  if (o.adminPort > 0) {
    try {
      admin = await startAdminServer({ bind: o.adminBind, port: o.adminPort, token: o.adminToken, metrics, status, health: () => status.health(), logger });
    } catch (e) {
      return { error: `admin API on ${o.adminBind}:${o.adminPort}: ${(e as Error).message}` };
    }
  }
  const sub = run$.subscribe({ error: (e: unknown) => logger.error(`controller stopped: ${(e as Error).message}`) });
  return {
    admin, haproxy, status, metrics, signals,
    stop: async () => {
      sub.unsubscribe();
      stopExits();
      const leave = o.haproxyAttach || o.leaveHaproxyRunning;
      if (leave) haproxy.release(); // an apply still under way can no longer start or reload it
      await Promise.all([admin?.close(), leave ? undefined : haproxy.stop()]);
      if (o.leaveHaproxyRunning && !o.haproxyAttach) logger.info(`leaving HAProxy master ${haproxy.masterPid() ?? '(none)'} running for the next controller`);
      try {
        if (fs.readFileSync(pidFile, 'utf8').trim() === String(process.pid)) fs.rmSync(pidFile);
      } catch {
        // already gone
      }
    },
  };
}

/** The Marathon credentials file's text, to keep it out of HAProxy's environment (unreadable: nothing). */
function readSecretFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
