import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Auth } from './auth';
import { burstEvents, BURST_TYPES, MAX_BURST } from './burst';
import type { BurstType } from './burst';
import { TaskClock } from './clock';
import { cancelDeployment, renderDeployment } from './deployments';
import { describeFaults, NO_FAULTS, parseFaultRequest } from './faults';
import type { Faults } from './faults';
import { Engine, SimulatorError } from './engine';
import type { Op } from './engine';
import { renderApp, renderApps } from './render';
import type { Embed } from './render';
import { createHandler } from './router';
import { listenServer, stopServer } from './server';
import { EventHub } from './sse';
import * as st from './state';
import { newDeploymentId } from './taskGen';
import { TaskPool } from './taskPool';
import type { SimEvent, SimState, TaskState } from './types';
import { TASK_STATES } from './types';

import type { LeaderOptions, SimulatorOptions } from './options';

export { SimulatorError };
export type { LeaderOptions, SimulatorOptions };

/**
 * A fake Marathon over real HTTP: `/v2/apps`, `/v2/events` (SSE), `/v2/info`, `/v2/leader`, DC/OS login,
 * and a control API under `/_sim/`. Every control operation is also a method here. Operations run one
 * at a time; each applies a pure transition (state.ts), starts/stops task backends, then emits its events.
 */
export class Simulator {
  readonly hub: EventHub;
  readonly auth: Auth;
  private readonly engine: Engine;
  private activeFaults: Faults = NO_FAULTS;
  private leaderOpts: LeaderOptions;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly pool: TaskPool | undefined;
  private server: Server | undefined;
  private boundPort = 0;
  private readonly seed: string;
  private readonly clock: () => Date;
  private readonly taskClock: TaskClock | undefined;
  /** ms per app of `GET /v2/apps` (see SimulatorOptions.appsLatencyPerAppMs); settable at run time. */
  appsLatencyPerAppMs: number;

  private constructor(readonly options: SimulatorOptions) {
    this.clock = options.now ?? (() => new Date());
    this.seed = options.seed ?? randomBytes(6).toString('hex');
    this.hub = new EventHub(options.keepAliveMs);
    this.auth = new Auth(options.auth ?? {}, randomBytes(32), () => this.clock().getTime());
    const pool = options.serveTasks
      ? new TaskPool(options.taskHost ?? '127.0.0.1', options.serveTasksOf, options.notReadyAnswers503 === true)
      : undefined;
    const delayed = options.timeScale !== undefined;
    this.engine = new Engine(this.hub, pool, () => ({
      now: this.nowIso(),
      host: options.taskHost ?? '127.0.0.1',
      seed: this.seed,
      delayed,
    }));
    this.taskClock =
      options.timeScale === undefined
        ? undefined
        : new TaskClock(options.timeScale, options.readyAfterSeconds, {
            markHealthy: (id) => this.setHealth(id, true),
            markReady: (id) => this.applyReady(id, true),
            schedule: (ms, fn) => this.schedule(ms, fn),
          });
    this.pool = pool;
    this.leaderOpts = options.leader ?? {};
    this.appsLatencyPerAppMs = options.appsLatencyPerAppMs ?? 0;
  }

  /** Starts listening, then creates the initial apps. */
  static async start(options: SimulatorOptions = {}): Promise<Simulator> {
    const scale = options.timeScale;
    if (scale !== undefined && !(Number.isFinite(scale) && scale > 0))
      throw new SimulatorError(422, `timeScale must be a number > 0, got ${scale}`);
    const sim = new Simulator(options);
    try {
      const { server, port } = await listenServer(
        createHandler(sim),
        options.host ?? '127.0.0.1',
        options.port ?? 0,
        options.tls,
      );
      sim.server = server;
      sim.boundPort = port;
      for (const app of options.apps ?? []) await sim.createApp(app);
    } catch (err) {
      await sim.close();
      throw err;
    }
    return sim;
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }
  get port(): number {
    return this.boundPort;
  }
  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${this.options.tls ? 'https' : 'http'}://${host}:${this.boundPort}`;
  }
  get faults(): Faults {
    return this.activeFaults;
  }
  get leader(): LeaderOptions {
    return this.leaderOpts;
  }
  get streamCount(): number {
    return this.hub.size;
  }
  get serving(): number {
    return this.pool?.size ?? 0;
  }
  get isClosed(): boolean {
    return this.closed;
  }
  /** The current state (plain readonly data). */
  snapshot(): SimState {
    return this.engine.state;
  }
  /** `GET /v2/apps?embed=apps.tasks` body (`embed` as Marathon's `embed` parameters ask). */
  appsJson(embed: boolean | Embed = true): { apps: Record<string, unknown>[] } {
    return renderApps(this.engine.state, typeof embed === 'boolean' ? { tasks: embed, readiness: false } : embed);
  }
  /** `GET /v2/apps/{id}` body's `app` (Marathon embeds everything there). */
  appJson(appId: string): Record<string, unknown> {
    const app = st.findApp(this.engine.state, appId);
    if (!app) throw new SimulatorError(404, `App '${appId}' does not exist`);
    return renderApp(this.engine.state, app, { tasks: true, readiness: true });
  }
  /** `GET /v2/deployments` body. */
  deploymentsJson(): Record<string, unknown>[] {
    const state = this.engine.state;
    return state.deployments.map((d) => renderDeployment(state, d));
  }
  /** Current tasks of an app (throws 404 when the app does not exist). */
  tasksOf(appId: string): SimState['apps'][number]['tasks'] {
    const app = st.findApp(this.engine.state, appId);
    if (!app) throw new SimulatorError(404, `app ${appId} does not exist`);
    return app.tasks;
  }
  /** Id of the deployment the last change started. */
  lastDeploymentId(): string {
    return newDeploymentId(this.engine.state.seq, this.seed);
  }
  nowIso(): string {
    return this.clock().toISOString();
  }

  createApp(def: unknown, clientIp?: string): Promise<Record<string, unknown>> {
    return this.appOp(
      (s, c) => st.createApp(s, def, c),
      () => idOf(def),
      clientIp,
    );
  }
  /** Without `force`, an app with a deployment in progress answers 409 (Marathon's lock). */
  updateApp(appId: string, patch: unknown, clientIp?: string, force = true): Promise<Record<string, unknown>> {
    return this.appOp(
      (s, c) => st.updateApp(s, appId, patch, c, force),
      () => appId,
      clientIp,
    );
  }
  scale(appId: string, instances: number): Promise<Record<string, unknown>> {
    return this.appOp(
      (s, c) => st.scaleApp(s, appId, instances, c),
      () => appId,
    );
  }
  setLabels(
    appId: string,
    labels: Record<string, string | null>,
    opts: { replace?: boolean } = {},
  ): Promise<Record<string, unknown>> {
    return this.appOp(
      (s, c) => st.setLabels(s, appId, labels, opts.replace === true, c),
      () => appId,
    );
  }
  async deleteApp(appId: string, clientIp?: string, force = true): Promise<void> {
    await this.run((s, c) => st.deleteApp(s, appId, c, force), clientIp);
  }
  /** Kills a task; Marathon starts a replacement unless `scale` is set (then instances drops by one). */
  async killTask(taskId: string, opts: { scale?: boolean } = {}): Promise<void> {
    await this.run((s, c) => st.setTaskState(s, taskId, 'TASK_KILLED', opts.scale === true, c));
  }
  /** `POST /v2/tasks/delete`: kills these tasks (unknown ids skipped); `scale` lowers their apps' instances. */
  async killTasks(
    taskIds: readonly string[],
    opts: { scale?: boolean; force?: boolean } = {},
    clientIp?: string,
  ): Promise<void> {
    await this.run((s, c) => st.killTasks(s, taskIds, opts.scale === true, c, opts.force ?? true), clientIp);
  }
  /** Moves a task to any Mesos state (TASK_UNREACHABLE, TASK_FAILED …); terminal states remove it. */
  async setTaskState(taskId: string, state: TaskState, opts: { scale?: boolean } = {}): Promise<void> {
    if (!TASK_STATES.includes(state))
      throw new SimulatorError(
        422,
        `unknown task state ${JSON.stringify(state)}: use one of ${TASK_STATES.join(', ')}`,
      );
    await this.run((s, c) => st.setTaskState(s, taskId, state, opts.scale === true, c));
  }
  async setHealth(taskId: string, alive: boolean): Promise<void> {
    await this.run((s, c) => st.setTaskHealth(s, taskId, alive, c));
    this.pool?.setHealthy(taskId, alive);
  }
  /**
   * Sets a task's readiness-check verdict (its app needs readinessChecks). The clock leaves the task's
   * readiness to the caller from then on. Its readiness paths answer 503 while not ready.
   */
  async setReady(taskId: string, ready: boolean): Promise<void> {
    this.taskClock?.holdReadiness(taskId);
    await this.applyReady(taskId, ready);
  }
  /** `DELETE /v2/deployments/{id}`: the deployment ends (deployment_failed); tasks stay as they are. */
  async cancelDeployment(id: string): Promise<void> {
    await this.run((s, c) => cancelDeployment(s, id, c.now));
  }
  /**
   * Only the task's own health-check paths answer 503 (healthy: false) or 200 again; Marathon's view
   * does not change. HAProxy's checks then disagree with Marathon, as when a task breaks between
   * Marathon's checks. Needs serveTasks.
   */
  setEndpointHealth(taskId: string, healthy: boolean): void {
    if (!this.pool?.has(taskId))
      throw new SimulatorError(404, `task ${taskId} has no served endpoint (start the simulator with serveTasks)`);
    this.pool.setHealthy(taskId, healthy);
  }

  /** Publishes events as they are (a missing timestamp is filled in). */
  emit(events: readonly (Partial<SimEvent> & { eventType: string })[]): void {
    const now = this.nowIso();
    this.engine.publish(events.map((e) => ({ ...e, timestamp: e.timestamp ?? now })));
  }
  /** Publishes `count` events of `type` at once (see burst.ts); returns the count. */
  burst(count: number, type: string = 'status_update_event'): number {
    if (!Number.isInteger(count) || count < 0 || count > MAX_BURST)
      throw new SimulatorError(422, `burst count must be an integer from 0 to ${MAX_BURST}`);
    if (!(BURST_TYPES as readonly string[]).includes(type))
      throw new SimulatorError(422, `burst type ${JSON.stringify(type)} is not one of ${BURST_TYPES.join(', ')}`);
    this.engine.publish(burstEvents(this.engine.state, count, type as BurstType, this.nowIso()));
    return count;
  }
  /** Subscribes to every published event (in-process tests); returns the unsubscribe function. */
  onEvent(listener: (e: SimEvent) => void): () => void {
    return this.engine.onEvent(listener);
  }

  /** Adds a fault (body as for `POST /_sim/faults`); returns the active faults. */
  setFaults(request: unknown): Record<string, unknown> {
    const parsed = parseFaultRequest(request, this.activeFaults);
    if (!parsed.ok) throw new SimulatorError(400, parsed.error);
    this.activeFaults = parsed.value.faults;
    if (this.activeFaults.stream === 'hang') this.hub.hangAll();
    if (this.activeFaults.stream === 'endless-line') this.hub.pourAll();
    if (this.activeFaults.all !== undefined) this.hub.destroyAll();
    if (parsed.value.closeStreams) this.hub.closeAll();
    return describeFaults(this.activeFaults);
  }
  /** Clears all faults. Streams that hung stay silent until closed: a client must notice and reconnect. */
  clearFaults(): void {
    this.activeFaults = NO_FAULTS;
  }
  expireTokens(): void {
    this.auth.expireTokens();
  }
  /** Makes this instance a non-leader redirecting to `redirectTo`, or the leader again with `{}`. */
  setLeader(leader: LeaderOptions): void {
    if (leader.redirectTo !== undefined && !/^https?:\/\/[^/]+/.test(leader.redirectTo)) {
      throw new SimulatorError(
        422,
        `redirectTo must be a base URL like http://127.0.0.1:8080, got ${JSON.stringify(leader.redirectTo)}`,
      );
    }
    this.leaderOpts = leader;
  }

  /** Runs `fn` after `ms` unless the simulator closes first; returns a cancel function. */
  schedule(ms: number, fn: () => void): () => void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(t);
    return () => {
      clearTimeout(t);
      this.timers.delete(t);
    };
  }
  /** Resolves after `ms`; never resolves if the simulator closes first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve));
  }

  /** Stops timers, streams, task backends and the server. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.hub.stop();
    await this.engine.close();
    if (this.server) await stopServer(this.server);
  }

  private async applyReady(taskId: string, ready: boolean): Promise<void> {
    await this.run((s, c) => st.setTaskReady(s, taskId, ready, c));
    this.pool?.setReady(taskId, ready);
  }

  /** Applies an operation, then starts the clock's timers for what it started. */
  private async run(op: Op, clientIp?: string): Promise<void> {
    await this.engine.apply(op, clientIp);
    this.taskClock?.sync(this.engine.state);
  }

  private async appOp(op: Op, id: () => string, clientIp?: string): Promise<Record<string, unknown>> {
    await this.run(op, clientIp);
    const state = this.engine.state;
    const app = st.findApp(state, id());
    if (!app) throw new SimulatorError(404, `app ${id()} does not exist`);
    return renderApp(state, app, { tasks: true, readiness: false });
  }
}

const idOf = (def: unknown): string =>
  typeof def === 'object' && def !== null && typeof (def as { id?: unknown }).id === 'string'
    ? (def as { id: string }).id
    : '';
