import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Observable, from } from 'rxjs';
import type { Service } from '../model/types';
import type { RenderedConfig } from '../render/render';
import type { ApplyPort, ApplyReport, DesiredState } from '../streams/applyPort';
import { plan as planChange, type Plan, type RuntimeOp } from '../streams/plan';
import { archiveVersions, readIfExists, writeAtomic } from './files';
import { isolateInvalid, type Verdict } from './isolate';
import { checkFdLimits, type FdEnvironment } from './limits';
import type { HaproxyLogger } from './masterSocket';
import { liveConfig, type HaproxyProcess } from './process';
import { RuntimeApi } from './runtimeApi';
import { addServerCommands, addServerSpec } from './serverCommands';
import { serverLinesByBackend } from './serverLines';
import { validateConfig } from './validate';

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
}

/** Thrown by an apply that could not be made; the message says why and what was kept. */
export class ApplyError extends Error {}

interface Files { readonly config: string; readonly domainMap: string; readonly appMap: string }

/**
 * Makes a real HAProxy run a desired state: validate → write atomically → runtime API for task churn,
 * or a seamless master-socket reload with a named reason → health gate → done. On failure the last
 * good files are put back (and reloaded if a reload had happened) before the error is reported.
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

  private async applyNow(asked: DesiredState, plan: Plan, previous: DesiredState | null): Promise<ApplyReport> {
    let next = asked;
    let files = this.files(next);
    const limits = checkFdLimits(files.config, await this.o.fdEnvironment());
    if (!limits.ok) throw new ApplyError(limits.message);
    if (plan.reloadReasons.length === 0 && this.o.process.isAlive()) {
      // Task churn: serve the new servers first, then validate and write the file for the next reload.
      const refused = await this.runtimeOps(plan.runtimeOps, files.config);
      if (refused === null) {
        const verdict = await this.checkFiles(files);
        if (!verdict.ok) throw new ApplyError(`haproxy -c rejected the config after a runtime update (file not written): ${verdict.message}`);
        await this.writeFiles(files);
        await this.gate(next, plan.runtimeOps);
        return { reloaded: false, reasons: [], runtimeOps: plan.runtimeOps.length };
      }
      plan = { runtimeOps: [], reloadReasons: [`runtime API could not apply the change (${refused})`] };
      this.o.logger.warn(`reloading instead: ${plan.reloadReasons[0]}`);
    }
    const verdict = await this.checkFiles(files);
    if (!verdict.ok) {
      const message = `haproxy -c rejected the new config (the running one is kept): ${verdict.message}`;
      const render = this.o.render;
      if (render === undefined) throw new ApplyError(message);
      const isolated = await isolateInvalid(next.model.services, (subset) => this.checkFiles(this.files(this.partial(next, render(subset)))));
      if (isolated === null) throw new ApplyError(`${message} — not caused by any single app (check global templates and flags)`);
      next = this.partial(next, render(isolated.kept), isolated.problems);
      files = this.files(next);
      plan = planChange(previous?.model.services ?? null, next.model.services, previous === null ? undefined : { previous: previous.rendered.config, next: next.rendered.config });
      if (previous !== null && plan.reloadReasons.length === 0 && plan.runtimeOps.length === 0) return { reloaded: false, reasons: [], runtimeOps: 0, applied: next };
      if (plan.reloadReasons.length === 0) plan = { runtimeOps: [], reloadReasons: ['apps HAProxy rejects were left out'] };
    }
    const report = await this.reloadWith(next, files, plan, previous);
    return next === asked ? report : { ...report, applied: next };
  }

  private partial(asked: DesiredState, rendered: RenderedConfig, extra: DesiredState['model']['problems'] = []): DesiredState {
    return { model: { services: rendered.served, problems: [...asked.model.problems, ...extra, ...rendered.problems] }, rendered };
  }

  private async reloadWith(next: DesiredState, files: Files, plan: Plan, previous: DesiredState | null): Promise<ApplyReport> {
    const reasons = this.o.process.isAlive() ? plan.reloadReasons : ['HAProxy not running: starting it', ...plan.reloadReasons];
    const before: Files | null = previous === null ? await this.filesOnDisk() : this.files(previous);
    await this.writeFiles(files);
    try {
      await this.reloadOrStart();
      await this.gate(next, []);
    } catch (e) {
      await this.restore(before);
      throw e;
    }
    return { reloaded: true, reasons, runtimeOps: 0 };
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
      return await this.validate(tmp);
    } finally {
      for (const f of [tmp, `${this.mapPaths.domain}.candidate`, `${this.mapPaths.app}.candidate`]) await fs.rm(f, { force: true });
    }
  }

  private validate(cfg: string): Promise<{ ok: true } | { ok: false; message: string }> {
    return this.o.skipValidation ? Promise.resolve({ ok: true }) : validateConfig(this.o.bin, cfg, this.o.validateTimeoutMs);
  }

  private async writeFiles(files: Files): Promise<void> {
    if (this.o.haproxyMap) {
      await writeAtomic(this.mapPaths.domain, files.domainMap);
      await writeAtomic(this.mapPaths.app, files.appMap);
    } else {
      // Without --haproxy-map, marathon-lb truncates map files left from an earlier run.
      for (const p of [this.mapPaths.domain, this.mapPaths.app]) if ((await readIfExists(p)) !== undefined) await writeAtomic(p, '');
    }
    if (this.o.archiveVersions > 0 && (await readIfExists(this.o.configPath)) !== undefined) await archiveVersions(this.o.configPath, this.o.archiveVersions);
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
