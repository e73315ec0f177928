/**
 * Data of the Marathon simulator. Everything here is plain, readonly JSON-like data so that the
 * state transitions in state.ts stay pure and can be re-run (see Simulator.apply).
 */
import { err, type Err, type Result } from '../result';

/** A Marathon app definition as posted to `/v2/apps` (without `tasks`). Unknown fields are kept. */
export interface AppDef {
  readonly id: string;
  readonly instances: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly portDefinitions?: readonly PortDefinition[];
  readonly container?: {
    readonly type?: string;
    readonly portMappings?: readonly PortMapping[];
    readonly docker?: Readonly<Record<string, unknown>>;
    readonly [key: string]: unknown;
  };
  readonly networks: readonly { readonly mode: string; readonly name?: string }[];
  readonly healthChecks: readonly Readonly<Record<string, unknown>>[];
  readonly version: string;
  readonly versionInfo: { readonly lastScalingAt: string; readonly lastConfigChangeAt: string };
  readonly [key: string]: unknown;
}

export interface PortDefinition {
  readonly port: number;
  readonly protocol?: string;
  readonly name?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly [key: string]: unknown;
}

export interface PortMapping {
  readonly containerPort?: number;
  readonly hostPort?: number;
  readonly servicePort: number;
  readonly protocol?: string;
  readonly name?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly [key: string]: unknown;
}

export type TaskState =
  | 'TASK_STAGING'
  | 'TASK_STARTING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_KILLED'
  | 'TASK_FINISHED'
  | 'TASK_FAILED'
  | 'TASK_LOST'
  | 'TASK_ERROR'
  | 'TASK_UNREACHABLE'
  | 'TASK_GONE'
  | 'TASK_DROPPED'
  | 'TASK_UNKNOWN'
  | 'TASK_GONE_BY_OPERATOR';

export const TASK_STATES: readonly TaskState[] = [
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_KILLED',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_LOST',
  'TASK_ERROR',
  'TASK_UNREACHABLE',
  'TASK_GONE',
  'TASK_DROPPED',
  'TASK_UNKNOWN',
  'TASK_GONE_BY_OPERATOR',
];

/** States after which Marathon drops the task from the app (it is gone from `/v2/apps`). */
export const TERMINAL_STATES: readonly TaskState[] = [
  'TASK_KILLED',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_ERROR',
  'TASK_GONE',
  'TASK_DROPPED',
  'TASK_GONE_BY_OPERATOR',
];

export interface SimTask {
  readonly id: string;
  readonly appId: string;
  readonly host: string;
  readonly slaveId: string;
  readonly ports: readonly number[];
  readonly servicePorts: readonly number[];
  readonly state: TaskState;
  readonly stagedAt: string;
  readonly startedAt: string;
  readonly version: string;
  /** Health-check verdict; null when the app has no health checks. */
  readonly alive: boolean | null;
  /** Health-checked but not checked yet (within the grace period): no healthCheckResults, not alive. */
  readonly awaitingHealth: boolean;
  /** Readiness-check verdict; null when the app has no readinessChecks. */
  readonly ready: boolean | null;
  readonly consecutiveFailures: number;
  readonly lastSuccess: string | null;
  readonly lastFailure: string | null;
}

export interface SimApp {
  readonly def: AppDef;
  readonly tasks: readonly SimTask[];
}

/** A deployment Marathon is still running: it ends once its new tasks are healthy and ready (or gone). */
export interface SimDeployment {
  readonly id: string;
  readonly appId: string;
  readonly action: 'StartApplication' | 'ScaleApplication' | 'RestartApplication' | 'StopApplication';
  readonly version: string;
  /** Ids of the started tasks the deployment waits for. */
  readonly waitingFor: readonly string[];
  /** Ids of the old tasks a restart kills once the new ones are healthy and ready. */
  readonly stopAfter: readonly string[];
}

export interface SimState {
  readonly apps: readonly SimApp[];
  /** Deployments in progress (only when the simulator's time runs: see SimulatorOptions.timeScale). */
  readonly deployments: readonly SimDeployment[];
  /** Monotonic counter for task/deployment ids. */
  readonly seq: number;
  /** Next fake host port handed out when no real port is supplied. */
  readonly nextHostPort: number;
  /** Lowest candidate for an automatically assigned service port (Marathon: 10000–20000). */
  readonly nextServicePort: number;
}

/** An event as sent on `/v2/events`: `eventType` + `timestamp` + type-specific fields. */
export interface SimEvent {
  readonly eventType: string;
  readonly timestamp: string;
  readonly [key: string]: unknown;
}

/** Inputs of a transition that come from the outside world. */
export interface Ctx {
  /** ISO timestamp of "now". */
  readonly now: string;
  /** Host written into new tasks. */
  readonly host: string;
  /** Random part that makes task ids unique across simulator runs. */
  readonly seed: string;
  /** Real host ports for the new tasks, in creation order; missing entries get fake ports. */
  readonly ports?: readonly (readonly number[] | undefined)[];
  /** Client address recorded in api_post_event. */
  readonly clientIp?: string;
  /** New tasks start unchecked/not ready and deployments wait for them (SimulatorOptions.timeScale is set). */
  readonly delayed?: boolean;
}

export interface Change {
  readonly state: SimState;
  readonly events: readonly SimEvent[];
  /** Tasks that were created (need a backend when serving tasks). */
  readonly started: readonly SimTask[];
  /** Tasks that went away (their backend must stop). */
  readonly stopped: readonly SimTask[];
}

/** Why a change is refused: the HTTP status the control API answers with, and Marathon's message. */
export interface SimFailure {
  readonly status: 400 | 404 | 409 | 422;
  readonly message: string;
}

export type Outcome = Result<Change, SimFailure>;

export const fail = (status: SimFailure['status'], message: string): Err<SimFailure> => err({ status, message });

/**
 * Host ports nothing listens on are handed out in turn from Mesos' default range start to the last
 * port, then again from the start (taskGen.ts): every task runs on the one simulated host, and 10 000
 * apps × 3 tasks already reach port 61 000. A port is shared only beyond 34 536 tasks, by other apps'.
 */
export const FIRST_HOST_PORT = 31000;
export const LAST_HOST_PORT = 65535;

export const emptyState = (): SimState => ({
  apps: [],
  deployments: [],
  seq: 0,
  nextHostPort: FIRST_HOST_PORT,
  nextServicePort: 10000,
});
