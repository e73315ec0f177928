import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DesiredState } from '../reconcile/applyPort';
import type { PipelineEvent } from '../reconcile/pipeline';
import { reasonCategory } from '../reconcile/reloadReason';
import { runtimeCategory } from '../reconcile/runtimeReason';
import { ChangeLag } from './changeLag';
import type { HaproxyState } from './haproxyState';
import type { MarathonState } from './marathonState';
import { HAPROXY_SERVER_STATES } from './statusTypes';

/**
 * App service ports left out of the applied config (bad labels, unrenderable templates, rejected by
 * HAProxy), each once: `model.problems` usually holds the render's problems too (snapshot.ts and
 * AppliedState put them there), and one port may have several problems.
 */
export function leftOutCount(state: DesiredState): number {
  return new Set([...state.model.problems, ...state.rendered.problems].map((p) => `${p.appId}\0${p.portIndex ?? '*'}`))
    .size;
}

/** What `mlb_build_info` labels. */
export interface BuildInfo {
  readonly version: string;
  /** The HAProxy version the config is written for (--haproxy-version or --haproxy-bin's). */
  readonly haproxyVersion: string;
}

export interface ControllerMetricsDeps {
  /** Epoch milliseconds (inject the scheduler's clock; tests pass a fake). */
  readonly now: () => number;
  /**
   * Number of live HAProxy worker processes, null when unknown; read on every scrape, so it must
   * answer quickly. Without it `mlb_haproxy_workers` is not exported.
   */
  readonly haproxyWorkers?: () => Promise<number | null>;
  /** Old (draining) HAProxy workers still finishing connections after reloads; like haproxyWorkers. */
  readonly haproxyOldWorkers?: () => Promise<number | null>;
  /** Marathon's state (event stream, last event, last snapshot): the mlb_marathon_* gauges; absent without it. */
  readonly marathon?: MarathonState;
  /**
   * Why /status calls routing stale (StatusBook.staleReason), or null: mlb_routing_stale. Absent: the
   * Marathon side's alone (`marathon`).
   */
  readonly staleReason?: () => string | null;
  /** HAProxy's own view (show stat): mlb_haproxy_servers{state}; absent without it. */
  readonly haproxyState?: HaproxyState;
  /** mlb_build_info; absent without it. */
  readonly build?: BuildInfo;
  /** prom-client's default process metrics (process_*, nodejs_*), on this registry. */
  readonly processMetrics?: boolean;
}

/** A gauge that takes its value on every scrape (prom-client awaits collect() before it writes the text). */
function scrapedGauge(registers: Registry[], name: string, help: string, read: () => number | Promise<number>): void {
  new Gauge({
    name,
    help,
    registers,
    async collect() {
      this.set(await read());
    },
  });
}

/** A gauge read from HAProxy on every scrape: NaN when HAProxy does not answer. */
function processGauge(registers: Registry[], name: string, help: string, read: () => Promise<number | null>): void {
  scrapedGauge(registers, name, help, async () => (await read().catch(() => null)) ?? Number.NaN);
}

/** Epoch milliseconds as Unix seconds; 0 for never. */
const unixSeconds = (ms: number | null): number => (ms === null ? 0 : ms / 1000);

const PIPELINE_STAGES = ['fetch', 'build', 'plan', 'apply', 'pipeline'] as const;

const APPLY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The controller's Prometheus metrics, in a registry of its own (never prom-client's global one),
 * fed by `observe` with the pipeline's events. Scrape with `text()`.
 */
export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly applies: Counter<'result'>;
  private readonly reloads: Counter<'reason'>;
  private readonly runtimeOps: Counter;
  private readonly applyDuration: Histogram;
  private readonly reconnects: Counter;
  private readonly fastApplies: Counter;
  private readonly fastCorrections: Counter;
  private readonly leftOut: Gauge;
  private readonly triggers: Counter<'kind'>;
  private readonly fetchFailures: Counter;
  private readonly pipelineErrors: Counter<'stage'>;
  private readonly runtimeUpdates: Counter<'reason'>;
  private lastFetchError: string | null = null;
  private readonly startedAt: number;
  private lastSuccessAt: number | null = null;
  private applyingSince: number | null = null;
  /** The oldest change not applied yet, as /healthz sees it (statusBook.ts keeps its own, fed the same events). */
  private readonly lag = new ChangeLag();

  constructor(private readonly deps: ControllerMetricsDeps) {
    const registers = [this.registry];
    const now = deps.now;
    this.startedAt = now();
    const counter = <L extends string = string>(
      name: string,
      help: string,
      labelNames: readonly L[] = [],
    ): Counter<L> => new Counter({ name, help, labelNames, registers });
    this.applies = counter(
      'mlb_applies_total',
      'Applies by result: ok, failed (SIGUSR1 reloads included), unchanged (a snapshot that changed nothing)',
      ['result'],
    );
    for (const result of ['ok', 'failed', 'unchanged']) this.applies.labels(result).inc(0);
    this.reloads = counter(
      'mlb_reloads_total',
      'HAProxy reloads, one per reload, labelled by the category of its first reason',
      ['reason'],
    );
    this.runtimeUpdates = counter(
      'mlb_runtime_updates_total',
      'Applies made through the runtime API alone (no reload), labelled by the kind of their first change: add_server, remove_server, set_draining',
      ['reason'],
    );
    this.runtimeOps = counter(
      'mlb_runtime_ops_total',
      'Runtime API operations (add/del/enable/disable server) of successful applies',
    );
    this.applyDuration = new Histogram({
      name: 'mlb_apply_duration_seconds',
      help: 'Time from the start of an apply to its success or failure',
      buckets: APPLY_BUCKETS,
      registers,
    });
    this.reconnects = counter('mlb_sse_reconnects_total', 'Reconnections of the Marathon event stream');
    this.fastApplies = counter(
      'mlb_fast_path_applies_total',
      'Fast-path applies through the runtime API before their snapshot (each the task and health events of one batch)',
    );
    this.fastCorrections = counter(
      'mlb_fast_path_corrections_total',
      'Snapshots that changed what HAProxy ran after a fast-path apply (the snapshot is the truth)',
    );
    this.triggers = counter(
      'mlb_triggers_total',
      'Reasons to re-read Marathon (startup, event, connected, resync, signal)',
      ['kind'],
    );
    this.fetchFailures = counter(
      'mlb_marathon_fetch_failures_total',
      'Failed reads of /v2/apps (a repeated identical failure is counted once until a read succeeds)',
    );
    this.pipelineErrors = counter(
      'mlb_pipeline_errors_total',
      'Failures caught in the controller pipeline, each retried, by stage: fetch (a read of /v2/apps), build (a snapshot invalid, or the model/render threw), ' +
        'plan (the diff threw: a full reload was used), apply (an HAProxy update failed or threw), pipeline (an unforeseen error: the pipeline restarted)',
      ['stage'],
    );
    for (const stage of PIPELINE_STAGES) this.pipelineErrors.labels(stage).inc(0);
    this.leftOut = new Gauge({
      name: 'mlb_apps_left_out',
      help: 'App service ports left out of the applied config (bad labels or templates)',
      registers,
    });
    scrapedGauge(
      registers,
      'mlb_last_apply_success_timestamp_seconds',
      'Unix time HAProxy was last found to run a Marathon snapshot: applied, or already running it (unchanged); 0 before the first',
      () => unixSeconds(this.lastSuccessAt),
    );
    scrapedGauge(
      registers,
      'mlb_seconds_since_last_successful_apply',
      'Seconds since HAProxy was last found to run a Marathon snapshot: applied, or already running it (since start before the first)',
      () => Math.max(0, (now() - (this.lastSuccessAt ?? this.startedAt)) / 1000),
    );
    scrapedGauge(
      registers,
      'mlb_unapplied_change_age_seconds',
      'Seconds the oldest known Marathon change has waited to be applied (0 when routing is current); /healthz fails past --max-apply-age',
      () => {
        const since = this.lag.since;
        return since === null ? 0 : Math.max(0, (now() - since) / 1000);
      },
    );
    if (deps.haproxyWorkers !== undefined)
      processGauge(
        registers,
        'mlb_haproxy_workers',
        'Live HAProxy worker processes (NaN when unknown)',
        deps.haproxyWorkers,
      );
    if (deps.haproxyOldWorkers !== undefined) {
      processGauge(
        registers,
        'mlb_haproxy_old_workers',
        'HAProxy workers of earlier configs still finishing their connections (bounded by --max-old-workers and hard-stop-after; NaN when unknown)',
        deps.haproxyOldWorkers,
      );
    }
    this.optionalMetrics(registers);
  }

  private optionalMetrics(registers: Registry[]): void {
    const { marathon, haproxyState, build } = this.deps;
    if (build !== undefined) {
      new Gauge({
        name: 'mlb_build_info',
        help: 'Always 1; the labels say which marathon-lb, Node.js and HAProxy config version run',
        labelNames: ['version', 'nodejs_version', 'haproxy_version'],
        registers,
      })
        .labels(build.version, process.versions.node, build.haproxyVersion)
        .set(1);
    }
    if (marathon !== undefined) {
      const gauges: readonly (readonly [string, string, () => number])[] = [
        [
          'mlb_marathon_up',
          '1 when the last read of Marathon succeeded and, with --sse, the event stream is connected',
          () => (marathon.up ? 1 : 0),
        ],
        [
          'mlb_marathon_event_stream_connected',
          '1 while the Marathon event stream is connected (always 0 without --sse)',
          () => (marathon.streamUp ? 1 : 0),
        ],
        [
          'mlb_marathon_last_event_timestamp_seconds',
          'Unix time of the last Marathon event received (0 before the first)',
          () => unixSeconds(marathon.lastEvent),
        ],
        [
          'mlb_marathon_last_snapshot_timestamp_seconds',
          'Unix time of the last successful read of Marathon apps (0 before the first)',
          () => unixSeconds(marathon.lastSnapshot),
        ],
        [
          'mlb_routing_stale',
          '1 when /status calls routing stale: /healthz unhealthy (HAProxy silent, a change waiting too long), or the event stream down or Marathon reads failing for longer than --stale-after',
          () => ((this.deps.staleReason ?? (() => marathon.staleReason()))() === null ? 0 : 1),
        ],
      ];
      for (const [name, help, read] of gauges) scrapedGauge(registers, name, help, read);
    }
    if (haproxyState !== undefined) {
      new Gauge({
        name: 'mlb_haproxy_servers',
        help: 'Servers by HAProxy state (UP, DOWN, MAINT, DRAIN, NOLB, UNKNOWN) at the last read of show stat; absent when HAProxy could not be read',
        labelNames: ['state'],
        registers,
        collect() {
          this.reset();
          const counts = haproxyState.serversByState();
          if (counts !== null) for (const state of HAPROXY_SERVER_STATES) this.labels(state).set(counts[state]);
        },
      });
      scrapedGauge(
        registers,
        'mlb_haproxy_last_stats_read_timestamp_seconds',
        "Unix time of the last successful read of HAProxy's show stat (0 before the first)",
        () => unixSeconds(haproxyState.readAt),
      );
    }
    if (this.deps.processMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text for `GET /metrics`. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Marathon event stream connected again after losing its connection. */
  streamReconnected(): void {
    this.reconnects.inc();
  }

  observe(e: PipelineEvent): void {
    this.lag.observe(e, this.deps.now());
    switch (e.kind) {
      case 'trigger':
        this.triggers.labels(e.trigger.kind).inc();
        break;
      case 'fetch-failed':
        this.pipelineErrors.labels('fetch').inc();
        if (e.error !== this.lastFetchError) this.fetchFailures.inc(); // retries of the same failure count once
        this.lastFetchError = e.error;
        break;
      case 'snapshot-invalid':
        this.lastFetchError = null; // the read itself succeeded
        this.pipelineErrors.labels('build').inc();
        break;
      case 'stage-error':
        this.pipelineErrors.labels(e.stage).inc();
        break;
      case 'unchanged':
        this.lastFetchError = null;
        this.applies.labels('unchanged').inc();
        // HAProxy runs this snapshot already: a success. Counted only when it changed, a quiet
        // cluster looked like a controller that could not apply (found by an audit).
        this.lastSuccessAt = this.deps.now();
        this.leftOut.set(leftOutCount(e.state)); // problems can change while the config does not
        break;
      case 'applying':
        this.applyingSince = this.deps.now();
        break;
      case 'applied': {
        if (e.state !== null) this.lastFetchError = null;
        this.applies.labels('ok').inc();
        this.finishApply();
        if (e.state !== null) this.lastSuccessAt = this.deps.now();
        if (e.report.reloaded) this.reloads.labels(this.reloadCategory(e)).inc();
        else if (e.report.runtimeOps > 0) {
          const first = e.runtimeReasons[0]; // none without a previous state
          this.runtimeUpdates.labels(first === undefined ? 'unknown' : runtimeCategory(first)).inc();
        }
        if (e.report.runtimeOps > 0) this.runtimeOps.inc(e.report.runtimeOps);
        if (e.state !== null) this.leftOut.set(leftOutCount(e.state));
        break;
      }
      case 'fast-path':
        if (e.outcome === 'applied') this.fastApplies.inc();
        else if (e.outcome === 'corrected') this.fastCorrections.inc();
        break;
      case 'apply-failed':
        this.applies.labels('failed').inc();
        this.pipelineErrors.labels('apply').inc();
        this.finishApply();
        break;
      default:
        break;
    }
  }

  /**
   * The category of the reload's first reason — except the first apply of this controller, which is
   * `initial` even when HAProxy had to be started for it (reasons not-running, initial).
   */
  private reloadCategory(e: Extract<PipelineEvent, { kind: 'applied' }>): string {
    if (e.report.reasons.some((r) => r.kind === 'initial')) return 'initial';
    const first = e.report.reasons[0];
    return first === undefined ? 'unknown' : reasonCategory(first);
  }

  private finishApply(): void {
    if (this.applyingSince === null) return; // SIGUSR1 reloads have no `applying`
    this.applyDuration.observe(Math.max(0, (this.deps.now() - this.applyingSince) / 1000));
    this.applyingSince = null;
  }
}
