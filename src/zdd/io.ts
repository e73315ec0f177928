import type { ZddApp, JsonObject } from './app';
import type { HostIps } from './stats';

/**
 * Everything zdd does to the world, as one small interface: the orchestrator (run.ts, drain.ts) is
 * driven by a fake in unit tests and by liveIo.ts for real. Failures are thrown as ZddError (with
 * zdd.py's kind, hence exit status), except where noted.
 */
export interface ZddIo {
  readonly log: {
    info(msg: string): void;
    warn(msg: string): void;
    debug(msg: string): void;
  };
  /** Standard output: the final app definition. */
  out(text: string): void;

  /** The apps Marathon runs (GET /v2/apps). */
  listApps(): Promise<readonly ZddApp[]>;
  /** One app with its tasks and deployments (GET /v2/apps/{id}). */
  getApp(id: string): Promise<ZddApp>;
  createApp(definition: JsonObject): Promise<void>;
  scaleApp(id: string, instances: number): Promise<void>;
  /** POST /v2/tasks/delete?scale=true. */
  killTasks(taskIds: readonly string[]): Promise<void>;
  deleteApp(id: string): Promise<void>;

  /** --marathon-lb once per IPv4 address its host name resolves to (one per marathon-lb instance). */
  marathonLbUrls(): Promise<readonly string[]>;
  /** `<url>/haproxy?stats;csv`; rejects (any error) when it cannot be read. */
  haproxyStats(url: string): Promise<string>;
  /** `<url>/_haproxy_getpids`; rejects (any error) when it cannot be read. */
  haproxyPids(url: string): Promise<string>;
  /** IPv4 addresses of task hosts, as marathon-lb names servers by them. */
  resolveHosts(hosts: readonly string[]): Promise<HostIps>;

  /** Runs the pre-kill hook with these arguments; rejects unless it exits 0. */
  runHook(path: string, args: readonly string[]): Promise<void>;
  /** Asks on the terminal; a missing answer (no terminal, end of input) is a no. */
  confirm(question: string): Promise<boolean>;
  sleep(seconds: number): Promise<void>;
  now(): Date;
}
