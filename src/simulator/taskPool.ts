import { TaskBackend } from './taskServers';
import type { AppDef, SimTask } from './types';

/** The real backends of running tasks, by task id (used when the simulator serves tasks). */
export class TaskPool {
  private readonly byTask = new Map<string, TaskBackend>();

  /** `servesApp` picks the apps whose tasks get real listeners (default: all). */
  constructor(
    private readonly host: string,
    private readonly servesApp: (appId: string) => boolean = () => true,
    private readonly notReadyFails = false,
  ) {}

  serves(appId: string): boolean {
    return this.servesApp(appId);
  }

  get size(): number {
    return this.byTask.size;
  }

  /** Starts one backend per entry, each with that many listeners. On failure, none stays open. */
  async allocate(portCounts: readonly number[]): Promise<TaskBackend[]> {
    const settled = await Promise.allSettled(portCounts.map((n) => TaskBackend.start(this.host, n)));
    const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((b) => b.close()));
      throw new Error(
        `could not start a task backend on ${this.host}: ${String((failed.reason as Error)?.message ?? failed.reason)}`,
      );
    }
    return started;
  }

  adopt(task: SimTask, def: AppDef, backend: TaskBackend): void {
    backend.appId = task.appId;
    backend.taskId = task.id;
    backend.healthy = task.alive !== false;
    const paths = def.healthChecks.map((h) => h['path']).filter((p): p is string => typeof p === 'string');
    backend.healthPaths = new Set(['/health', ...paths]);
    backend.ready = task.ready !== false;
    backend.notReadyFails = this.notReadyFails;
    const checks = Array.isArray(def['readinessChecks'])
      ? (def['readinessChecks'] as readonly Record<string, unknown>[])
      : [];
    backend.readyPaths = new Set(checks.map((c) => (typeof c['path'] === 'string' ? c['path'] : '/')));
    this.byTask.set(task.id, backend);
  }

  has(taskId: string): boolean {
    return this.byTask.has(taskId);
  }

  setHealthy(taskId: string, healthy: boolean): void {
    const b = this.byTask.get(taskId);
    if (b) b.healthy = healthy;
  }

  setReady(taskId: string, ready: boolean): void {
    const b = this.byTask.get(taskId);
    if (b) b.ready = ready;
  }

  async stop(taskIds: readonly string[]): Promise<void> {
    const gone = taskIds.flatMap((id) => {
      const b = this.byTask.get(id);
      this.byTask.delete(id);
      return b ? [b] : [];
    });
    await Promise.all(gone.map((b) => b.close()));
  }

  async closeAll(): Promise<void> {
    await this.stop([...this.byTask.keys()]);
  }
}
