import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Observable, from } from 'rxjs';
import type { Service } from '../model/types';
import type { RenderedConfig } from '../render/render';
import type { ApplyPort, ApplyReport, DesiredState, Rejection } from '../streams/applyPort';
import { plan as planChange, type Plan, type RuntimeOp } from '../streams/plan';
import { archiveVersions, readIfExists, writeAtomic } from './files';
import type { Verdict } from './isolate';
import { checkFdLimits, type FdEnvironment } from './limits';
import type { HaproxyLogger } from './masterSocket';
import { liveConfig, type HaproxyProcess } from './process';
import { rejectedAtGate, rejectedByCheck, without, type Candidates } from './rejections';
import { RuntimeApi } from './runtimeApi';
import { addServerCommands, addServerSpec } from './serverCommands';
import { serverLinesByBackend } from './serverLines';
import { proxiesNamed, validateConfig } from './validate';

export interface ApplierOptions {
  readonly process: HaproxyProcess;
  readonly bin: string;
  readonly configPath: string;
  readonly haproxyMap: boolean;
  readonly skipValidation: boolean;
  readonly archiveVersions: number;
  readonly hardStopAfterSeconds: number;
  readonly validateTimeoutMs: number;
  readonly fdEnvironment: () => Promise<FdEnvironment>;
  readonly logger: HaproxyLogger;
  /** Files HAProxy creates itself (master socket, pid file): their directories must exist. */
  readonly runtimeFiles: readonly string[];
  /** Renders a subset of services, to leave out apps HAProxy rejects (absent with --skip-config-cleanup). */
  readonly render?: (services: readonly Service[]) => RenderedConfig;
  /** Reloads tried to find the app a refused reload does not name (default 16: one culprit among ~10 000). */
  readonly maxTrialReloads?: number;
}

/** Thrown by an apply that could not be made; the message says why and what was kept. */
export class ApplyError extends Error {}

interface Files { readonly config: string; readonly domainMap: string; readonly appMap: string }

/** Rounds of leaving out apps a refused reload names before giving up (each round leaves out at least one). */
const MAX_GATE_ROUNDS = 5;
const TRIALS_DONE = 'back from trial reloads that found the apps HAProxy cannot run';

/**
 * Makes a real HAProxy run a desired state: validate → write atomically → runtime API for task churn,
 * or a seamless master-socket reload with a named reason → health gate → done. Apps HAProxy refuses
 * (at `haproxy -c`, or at the reload although -c passed) are left out and the rest is applied in
 * the same apply (see rejections.ts); the report names them. On any other failure the last good
 * files are put back (and reloaded if a reload had happened) before the error is reported.
 */
export class HaproxyApplier implements ApplyPort {
  private readonly runtime: RuntimeApi;
  private readonly mapPaths: { readonly domain: string; readonly app: string };

  constructor(private readonly o: ApplierOptions) {
    this.runtime = new RuntimeApi({ channel: o.process.master.worker(), logger: o.logger });
    const dir = path.dirname(o.configPath);
    this.mapPaths = { domain: path.join(dir, 'domain2backend.map'), app: path.join(dir, 'app2backend.map') };
  }

  apply(next: DesiredState, plan: Plan, previous: DesiredState | null): Observable<ApplyReport> {
    return from(this.applyNow(next, plan, previous));
  }

  reloadExisting(): Observable<ApplyReport> {
    return from((async () => {
      const check = await this.validate(this.o.configPath);
      if (!check.ok) throw new ApplyError(`SIGUSR1: the config on disk is not valid, not reloading: ${check.message}`);
      await this.reloadOrStart();
      return { reloaded: true, reasons: ['SIGUSR1: reload the existing config'], runtimeOps: 0 };
    })());
  }

  private files(state: DesiredState): Files {
    const config = liveConfig(state.rendered.config, this.o.hardStopAfterSeconds);
    return { config, domainMap: this.o.haproxyMap ? state.rendered.domainMap : '', appMap: this.o.haproxyMap ? state.rendered.appMap : '' };
  }

  private async applyNow(asked: DesiredState, askedPlan: Plan, previous: DesiredState | null): Promise<ApplyReport> {
    const limits = checkFdLimits(this.files(asked).config, await this.o.fdEnvironment());
    if (!limits.ok) throw new ApplyError(limits.message);
    let plan = askedPlan;
    if (plan.reloadReasons.length === 0 && this.o.process.isAlive()) {
      // Task churn: serve the new servers first, then validate and write the file for the next reload.
      const refused = await this.viaRuntime(asked, plan);
      if (refused === null) return { reloaded: false, reasons: [], runtimeOps: plan.runtimeOps.length };
      plan = this.reloadBecauseRefused(refused);
    }
    const before: Files | null = previous === null ? await this.filesOnDisk() : this.files(previous);
    const checked = await this.leaveOutRejectedByCheck(asked);
    let next = checked.state;
    const rejected = [...checked.rejected];
    if (next !== asked) plan = this.replan(previous, next);
    let trials = false; // HAProxy ran trial configs: only a reload brings it to `next`
    for (let round = 0; ; round++) {
      try {
        const report = await this.commitTo(next, trials && plan.reloadReasons.length === 0 ? { runtimeOps: [], reloadReasons: [TRIALS_DONE] } : plan);
        return next === asked ? report : { ...report, applied: next, rejected };
      } catch (e) {
        const c = this.candidates();
        const found = c === null || round >= MAX_GATE_ROUNDS ? null
          : await rejectedAtGate(e instanceof Error ? e.message : String(e), next, previous, c, this.o.maxTrialReloads ?? 16);
        if (c === null || found === null || found.rejected.length === 0) {
          await this.restore(before);
          throw e;
        }
        trials ||= found.trials;
        rejected.push(...found.rejected);
        next = without(c, next, found.rejected);
        plan = this.replan(previous, next);
      }
    }
  }

  /** Runtime API when the plan allows it and HAProxy runs, else a reload (or start). Restores nothing. */
  private async commitTo(next: DesiredState, plan: Plan): Promise<ApplyReport> {
    if (plan.reloadReasons.length === 0 && this.o.process.isAlive()) {
      const refused = await this.viaRuntime(next, plan);
      if (refused === null) return { reloaded: false, reasons: [], runtimeOps: plan.runtimeOps.length };
      plan = this.reloadBecauseRefused(refused);
    }
    const reasons = this.o.process.isAlive() ? plan.reloadReasons : ['HAProxy not running: starting it', ...plan.reloadReasons];
    await this.writeFiles(this.files(next));
    await this.reloadOrStart();
    await this.gate(next, []);
    return { reloaded: true, reasons, runtimeOps: 0 };
  }

  /**
   * Serves `plan`'s runtime ops, then validates and writes the files. Null when done, else why a
   * reload is needed instead (one that leaves out what `haproxy -c` rejects, see applyNow).
   */
  private async viaRuntime(next: DesiredState, plan: Plan): Promise<string | null> {
    const files = this.files(next);
    const refused = await this.runtimeOps(plan.runtimeOps, files.config);
    if (refused !== null) return `runtime API could not apply the change (${refused})`;
    const verdict = await this.checkFiles(files);
    if (!verdict.ok) return `haproxy -c rejects the config after a runtime update (file not written): ${verdict.message}`;
    await this.writeFiles(files);
    await this.gate(next, plan.runtimeOps);
    return null;
  }

  private reloadBecauseRefused(reason: string): Plan {
    this.o.logger.warn(`reloading instead: ${reason}`);
    return { runtimeOps: [], reloadReasons: [reason] };
  }

  private replan(previous: DesiredState | null, next: DesiredState): Plan {
    return planChange(previous?.model.services ?? null, next.model.services,
      previous === null ? undefined : { previous: previous.rendered.config, next: next.rendered.config });
  }

  /** `haproxy -c` rejects the config: leave out the services it rejects (any number of them). */
  private async leaveOutRejectedByCheck(asked: DesiredState): Promise<{ state: DesiredState; rejected: readonly Rejection[] }> {
    const verdict = await this.checkFiles(this.files(asked));
    if (verdict.ok) return { state: asked, rejected: [] };
    const message = `haproxy -c rejected the new config (the running one is kept): ${verdict.message}`;
    const c = this.candidates();
    if (c === null) throw new ApplyError(message);
    const rejected = await rejectedByCheck(asked, verdict, c);
    if ('error' in rejected) throw new ApplyError(`${message} — not caused by any app (check global templates and flags): ${rejected.error}`);
    return { state: without(c, asked, rejected), rejected };
  }

  /** Re-rendering subsets needs `render` (absent with --skip-config-cleanup: nothing is left out). */
  private candidates(): Candidates | null {
    const render = this.o.render;
    if (render === undefined) return null;
    return {
      subset: (asked, services, problems = []) => {
        const rendered = render(services);
        return { model: { services: rendered.served, problems: [...asked.model.problems, ...problems, ...rendered.problems] }, rendered };
      },
      check: (state) => this.checkFiles(this.files(state)),
      run: async (state) => {
        await this.writeFiles(this.files(state), false);
        await this.reloadOrStart();
        await this.gate(state, []);
      },
      configText: (state) => this.files(state).config,
      logger: this.o.logger,
    };
  }

  /** `haproxy -c` on a temp copy whose map paths point at temp maps too (upstream did the same). */
  private async checkFiles(files: Files): Promise<Verdict> {
    if (this.o.skipValidation) return { ok: true };
    const tmp = `${this.o.configPath}.candidate`;
    let text = files.config;
    if (this.o.haproxyMap) {
      await writeAtomic(`${this.mapPaths.domain}.candidate`, files.domainMap);
      await writeAtomic(`${this.mapPaths.app}.candidate`, files.appMap);
      text = text.split(this.mapPaths.domain).join(`${this.mapPaths.domain}.candidate`).split(this.mapPaths.app).join(`${this.mapPaths.app}.candidate`);
    }
    await writeAtomic(tmp, text);
    try {
      const v = await this.validate(tmp);
      return v.ok ? v : { ...v, named: proxiesNamed(v.message, text) };
    } finally {
      for (const f of [tmp, `${this.mapPaths.domain}.candidate`, `${this.mapPaths.app}.candidate`]) await fs.rm(f, { force: true });
    }
  }

  private validate(cfg: string): Promise<{ ok: true } | { ok: false; message: string }> {
    return this.o.skipValidation ? Promise.resolve({ ok: true }) : validateConfig(this.o.bin, cfg, this.o.validateTimeoutMs);
  }

  /** `archive`: keep the replaced config among the archived versions (not for trial configs). */
  private async writeFiles(files: Files, archive = true): Promise<void> {
    if (this.o.haproxyMap) {
      await writeAtomic(this.mapPaths.domain, files.domainMap);
      await writeAtomic(this.mapPaths.app, files.appMap);
    } else {
      // Without --haproxy-map, marathon-lb truncates map files left from an earlier run.
      for (const p of [this.mapPaths.domain, this.mapPaths.app]) if ((await readIfExists(p)) !== undefined) await writeAtomic(p, '');
    }
    if (archive && this.o.archiveVersions > 0 && (await readIfExists(this.o.configPath)) !== undefined) await archiveVersions(this.o.configPath, this.o.archiveVersions);
    await writeAtomic(this.o.configPath, files.config);
  }

  private async filesOnDisk(): Promise<Files | null> {
    const config = await readIfExists(this.o.configPath);
    if (config === undefined) return null;
    return { config, domainMap: (await readIfExists(this.mapPaths.domain)) ?? '', appMap: (await readIfExists(this.mapPaths.app)) ?? '' };
  }

  private async restore(before: Files | null): Promise<void> {
    if (before === null) return;
    this.o.logger.warn('restoring the last good HAProxy config');
    await this.writeFiles(before);
    if (this.o.process.isClosed()) return; // shutting down: the files are back, HAProxy is left to the stop
    if (this.o.process.isAlive()) {
      const r = await this.o.process.reload();
      if (!r.ok) this.o.logger.error(`reload of the last good config failed too: ${r.message}`);
    } else {
      const r = await this.o.process.start();
      if (!r.ok) this.o.logger.error(`HAProxy does not start with the last good config either: ${r.message}`);
    }
  }

  private async reloadOrStart(): Promise<void> {
    if (!this.o.process.isAlive()) {
      await this.ensureRuntimeDirs();
      await this.saveServerState(); // creates the state file HAProxy's head asks for, if missing
      const r = await this.o.process.start();
      if (!r.ok) throw new ApplyError(`HAProxy did not start: ${r.message}`);
      return;
    }
    await this.saveServerState();
    const r = await this.o.process.reload();
    if (!r.ok) throw new ApplyError(`HAProxy reload failed (the old worker keeps serving): ${r.message}`);
    if (r.oldWorkers.length > 0) this.o.logger.debug(`haproxy: ${r.oldWorkers.length} old worker(s) finishing their connections`);
  }

  /**
   * marathon-lb's head says `server-state-file global` + `load-server-state-from-file global`: dump
   * the servers' state before a reload so the new worker starts with it (health, drain, weights).
   */
  private async saveServerState(): Promise<void> {
    const file = await this.serverStateFile();
    if (file === undefined) return;
    const answer = this.o.process.isAlive() ? await this.o.process.master.worker().send('show servers state') : { ok: true as const, value: '' };
    if (!answer.ok) return;
    if (!answer.value.trim() && (await readIfExists(file)) !== undefined) return; // keep what a dead HAProxy left
    try {
      // "1" alone is the state file format's version line: a valid file that lists no servers yet.
      await writeAtomic(file, answer.value.trim() === '' ? '1\n' : answer.value);
    } catch (e) {
      this.o.logger.warn(`cannot save server state before reload: ${(e as Error).message}`);
    }
  }

  /**
   * marathon-lb's head puts the stats socket in /var/run/haproxy/ and server state in
   * /var/state/haproxy/, which a fresh machine or container lacks: create them (and the master
   * socket's and pid file's directories) before HAProxy starts, instead of failing on them.
   */
  private async ensureRuntimeDirs(): Promise<void> {
    const config = (await readIfExists(this.o.configPath)) ?? '';
    const dirs = [
      /^\s*stats\s+socket\s+(\/\S+)/m.exec(config)?.[1],
      ...this.o.runtimeFiles,
    ].flatMap((f) => (f === undefined ? [] : [path.dirname(f)]));
    const base = /^\s*server-state-base\s+(\S+)/m.exec(config)?.[1];
    if (base !== undefined) dirs.push(base);
    for (const dir of dirs) {
      try {
        await fs.mkdir(dir, { recursive: true });
      } catch (e) {
        this.o.logger.warn(`cannot create ${dir} for HAProxy: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
  }

  private async serverStateFile(): Promise<string | undefined> {
    const config = (await readIfExists(this.o.configPath)) ?? '';
    const base = /^\s*server-state-base\s+(\S+)/m.exec(config)?.[1];
    const file = /^\s*server-state-file\s+(\S+)/m.exec(config)?.[1];
    return base === undefined || file === undefined ? undefined : path.resolve(base, file);
  }

  /** Task churn through the stats socket. Returns null when all went through, else why not. */
  private async runtimeOps(ops: readonly RuntimeOp[], config: string): Promise<string | null> {
    const lines = ops.some((o) => o.kind === 'add-server') ? serverLinesByBackend(config) : new Map<string, Map<string, string>>();
    for (const op of ops) {
      const be = op.backend;
      const name = op.server.name;
      if (op.kind === 'add-server') {
        const line = lines.get(be)?.get(name);
        if (line === undefined) return `server ${be}/${name} is not in the rendered config`;
        const spec = addServerSpec(line);
        if (!spec.ok) return spec.message;
        if (!spec.value.exact) return `${be}/${name} needs ${spec.value.dropped.map((d) => d.keyword).join(', ')}, which HAProxy refuses for dynamic servers`;
        for (const cmd of addServerCommands(be, spec.value)) {
          const r = await this.o.process.master.worker().send(cmd);
          if (!r.ok) return r.message;
          if (/\b(refused|error|unknown|not accepted|No such|cannot)\b/i.test(r.value) && !/^New server registered/i.test(r.value)) return `${cmd}: ${r.value.trim()}`;
        }
      } else if (op.kind === 'remove-server') {
        const r = await this.runtime.drainAndDelete(be, name, { timeoutMs: 2000, force: true });
        if (!r.ok) return r.message;
      } else {
        const r = await this.runtime.setServerState(be, name, op.draining ? 'maint' : 'ready');
        if (!r.ok) return r.message;
      }
    }
    return null;
  }

  /** HAProxy proves it runs the state: a worker answers and every backend is there with its servers. */
  private async gate(next: DesiredState, ops: readonly RuntimeOp[]): Promise<void> {
    const proc = await this.o.process.showProc();
    if (!proc.ok || proc.value.workers.length === 0) throw new ApplyError(`health gate: no HAProxy worker answers (${proc.ok ? 'no worker' : proc.message})`);
    const backends = await this.runtime.showBackends();
    if (!backends.ok) throw new ApplyError(`health gate: the stats socket does not answer: ${backends.message}`);
    const have = new Set(backends.value);
    const missing = next.model.services.filter((s) => !have.has(s.backend)).map((s) => s.backend);
    if (missing.length > 0) throw new ApplyError(`health gate: HAProxy does not run backend(s) ${missing.slice(0, 5).join(', ')}`);
    if (ops.length > 0) {
      const state = await this.runtime.showServersState();
      if (!state.ok) throw new ApplyError(`health gate: ${state.message}`);
      const servers = new Set(state.value.map((s) => `${s.backend}/${s.name}`));
      for (const op of ops) {
        const present = servers.has(`${op.backend}/${op.server.name}`);
        if (op.kind === 'add-server' && !present) throw new ApplyError(`health gate: ${op.backend}/${op.server.name} was not added`);
        if (op.kind === 'remove-server' && present) throw new ApplyError(`health gate: ${op.backend}/${op.server.name} is still there`);
      }
    }
  }
}
