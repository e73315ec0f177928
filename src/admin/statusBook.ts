import { createTwoFilesPatch } from 'diff';
import { withServerLines } from '../haproxy/configText';
import type { Problem, Server, Service } from '../model/types';
import { isFastState, type DesiredState } from '../reconcile/applyPort';
import type { PipelineEvent } from '../reconcile/pipeline';
import { formatReason } from '../reconcile/reloadReason';
import { formatRuntimeReason } from '../reconcile/runtimeReason';
import { ChangeLag } from './changeLag';
import { HaproxyState } from './haproxyState';
import { MarathonState } from './marathonState';
import { LazyItems } from './slicedJson';

import type { AdminStatus, ApplyRecord, FailureRecord, Health, MarathonHealth, ServiceStatus } from './statusTypes';

export type { AdminStatus, FailureRecord, Health } from './statusTypes';

export interface StatusBookDeps {
  /** The controller's AppliedState (the truth about what HAProxy runs). */
  readonly applied: { readonly current: DesiredState | null; readonly appliedAt: number | null };
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** How many applies and failures to keep (default 20). */
  readonly keep?: number;
  /** Diffs are cut after this many characters (default 64 KiB)… */
  readonly maxDiffChars?: number;
  /** …and not computed when more lines than this changed (default 2000). */
  readonly maxDiffEdits?: number;
  /**
   * The config text kept for diffs not yet computed, newest applies first (default 32 Mi characters):
   * at 10 000 apps a config is 7.4 MB, and 20 applies' texts were 150 MB of a controller's heap.
   */
  readonly maxDiffTextChars?: number;
  /** --max-apply-age in ms: a known change unapplied for longer makes the service unhealthy (0: never; default 300 s). */
  readonly maxApplyAgeMs?: number;
  /** Marathon's state (shared with the metrics); default: a polling controller's, never connected. */
  readonly marathon?: MarathonState;
  /** HAProxy's own view (shared with the metrics); default: never read. */
  readonly haproxy?: HaproxyState;
  /** --health-check: Marathon's health results decide which tasks are routed (default false). */
  readonly healthCheck?: boolean;
}

/** Computed when /status is read: the texts are thunks (a fast-path state's is spliced only then). */
interface PendingDiff {
  previous: () => string;
  next: () => string;
  text: string | null;
  /** The characters of config text the thunks hold (the next config's: the previous one is the older apply's). */
  readonly chars: number;
}

/**
 * The config HAProxy runs in `state`: a fast-path state's text is its snapshot's, with the servers the
 * runtime API changed since (so each apply's diff shows what that apply changed). The thunk holds the
 * text and server lines only, not the state (its model and apps).
 */
const liveConfig = (state: DesiredState | null): (() => string) => {
  if (state === null) return () => '';
  const config = state.rendered.config;
  const lines = state.source?.fast === true ? state.source.serverLines : undefined;
  return lines === undefined ? () => config : () => withServerLines(config, lines);
};

/** Gives a pending diff its final text and lets go of the config texts its thunks held. */
function settle(d: PendingDiff, text: string): string {
  d.text = text;
  d.previous = () => '';
  d.next = () => '';
  return text;
}

const DIFF_NOT_KEPT = '(diff not kept: the configs of newer applies filled the memory kept for diffs)\n';

type StoredApply = Omit<ApplyRecord, 'diff'> & { readonly diff: PendingDiff };

const FILE_CAUGHT_UP = 'config file written: its server changes were already live through the runtime API';
const KEPT_ADOPTED = 'kept as adopted: the HAProxy an earlier controller left runs this config already';
const FILES_WRITTEN_AT_LAST =
  'config file written at last: HAProxy ran its servers already (an earlier write had failed)';

const iso = (ms: number): string => new Date(ms).toISOString();
const address = (s: Server): string => `${s.ip.includes(':') ? `[${s.ip}]` : s.ip}:${s.port}`;

/** Marathon's word on a routed task: with --health-check the model routes only tasks Marathon reports alive. */
const marathonHealth = (s: Service, healthCheck: boolean): MarathonHealth =>
  s.healthCheck === null ? 'none' : healthCheck ? 'healthy' : 'unknown';

function serviceStatus(s: Service, haproxy: HaproxyState, healthCheck: boolean): ServiceStatus {
  return {
    appId: s.appId,
    servicePort: s.servicePort,
    backend: s.backend,
    mode: s.mode,
    hostname: s.hostname,
    path: s.path,
    traffic: haproxy.backend(s.backend),
    servers: s.servers.map((v) => ({
      name: v.name,
      address: address(v),
      draining: v.draining,
      marathonHealth: marathonHealth(s, healthCheck),
      haproxy: haproxy.server(s.backend, v.name),
    })),
  };
}

const problem = (p: Problem): Problem => ({
  appId: p.appId,
  portIndex: p.portIndex,
  label: p.label,
  message: p.message,
});

/**
 * What the controller did and runs now, for `GET /status` and the dashboard. Fed with the
 * pipeline's events; reads the applied state when asked. Diffs are computed on first request
 * (never inside the pipeline) and bounded in size.
 */
/**
 * How long HAProxy, which ran, may not answer its stats reads before /healthz fails, and the
 * controller reloads it (a new worker): a restart at 10 000 apps takes ~10 s.
 */
export const HAPROXY_SILENT_MS = 30_000;

/** A read of Marathon's apps longer than this is named by /healthz (big Marathons take tens of seconds). */
const LONG_READ_MS = 60_000;

export class StatusBook {
  private readonly keep: number;
  private readonly maxDiffTextChars: number;
  private readonly applies: StoredApply[] = [];
  private readonly failures: FailureRecord[] = [];
  private applyingSince: number | null = null;
  /** Since when applies fail, one after another (null: the last one succeeded). */
  private applyFailingSince: number | null = null;
  private pending = false;
  private triggeredDuringApply = false;
  private lastError: string | null = null;
  /** The newest state built from Marathon, applied or found unchanged. */
  private latestBuilt: DesiredState | null = null;
  private readonly lag = new ChangeLag();
  private readonly marathon: MarathonState;
  private readonly haproxy: HaproxyState;
  /** Whether `marathon` is fed here (made here) or by its owner. */
  private readonly ownMarathon: boolean;
  private changeCount = 0;

  constructor(private readonly deps: StatusBookDeps) {
    this.keep = Math.max(1, deps.keep ?? 20);
    this.maxDiffTextChars = deps.maxDiffTextChars ?? 32 * 1024 * 1024;
    this.ownMarathon = deps.marathon === undefined;
    this.marathon =
      deps.marathon ?? new MarathonState({ now: deps.now, eventStream: false, staleAfterMs: Number.POSITIVE_INFINITY });
    this.haproxy = deps.haproxy ?? new HaproxyState({ now: deps.now, enabled: false, intervalMs: 0 });
  }

  observe(e: PipelineEvent): void {
    this.changeCount++;
    const now = this.deps.now();
    this.lag.observe(e, now);
    if (this.ownMarathon) this.marathon.observe(e);
    switch (e.kind) {
      case 'trigger':
        this.pending = true;
        if (this.applyingSince !== null) this.triggeredDuringApply = true;
        break;
      case 'applying':
        this.pending = true;
        this.applyingSince = now;
        this.triggeredDuringApply = false;
        break;
      case 'unchanged':
        this.applyFailingSince = null;
        this.latestBuilt = e.state; // problems can change while the config does not
        this.pending = false;
        this.lastError = null;
        break;
      case 'fetch-failed':
        this.pending = e.retryInMs !== undefined; // the fetch is retried after retryInMs
        this.fail({ at: iso(now), kind: e.kind, error: e.error, retryInMs: e.retryInMs ?? null, durationMs: null });
        break;
      case 'snapshot-invalid':
        this.pending = false;
        this.fail({ at: iso(now), kind: e.kind, error: e.error, retryInMs: null, durationMs: null });
        break;
      case 'stage-error':
        if (e.stage === 'build' && e.isolated !== true) this.pending = false; // that snapshot is dropped
        this.fail({
          at: iso(now),
          kind: e.kind,
          error: `internal error in ${e.stage}${e.appId === null ? '' : ` (app ${e.appId})`}: ${e.error}`,
          retryInMs: null,
          durationMs: null,
        });
        break;
      case 'apply-failed':
        this.applyFailingSince ??= now;
        this.pending = true; // the sink retries the newest model after retryInMs
        this.fail({ at: iso(now), kind: e.kind, error: e.error, retryInMs: e.retryInMs, durationMs: this.took(now) });
        break;
      case 'applied': {
        // Task churn applied beside a failing change (applySink.ts) leaves that change failing and pending.
        const beside = isFastState(e.state) && this.applyFailingSince !== null;
        if (!beside) this.applyFailingSince = null;
        if (!beside) {
          if (e.state !== null) this.latestBuilt = e.state;
          // A trigger that arrived while HAProxy was being updated is decided by a later snapshot. A
          // reload of the config on disk (state null) that ends a failure clears it too: it stayed
          // "pending" with the old error for good (helper 72); a snapshot still owed is applied next.
          // Task churn routed by the fast path leaves a change only a snapshot applies pending.
          this.pending =
            this.triggeredDuringApply || ((e.state === null || isFastState(e.state)) && this.lag.since !== null);
          this.triggeredDuringApply = false;
          this.lastError = null;
        }
        const diff: PendingDiff = {
          previous: liveConfig(e.previous),
          next: liveConfig(e.state),
          text: null,
          chars: e.state?.rendered.config.length ?? 0,
        };
        // Kept as adopted: the file on disk held this config already, nothing changed.
        if (e.state === null || e.report.keptAdopted === true) diff.text = '';
        const { reloaded, reasons, runtimeOps } = e.report;
        const said =
          e.filesWritten === true
            ? [FILES_WRITTEN_AT_LAST]
            : e.report.keptAdopted === true
              ? [KEPT_ADOPTED]
              : !reloaded && runtimeOps === 0 && reasons.length === 0 && e.state !== null
                ? [FILE_CAUGHT_UP] // a snapshot after fast-path changes: nothing left to do in HAProxy
                : reloaded || runtimeOps === 0 || e.previous === null || e.state === null
                  ? reasons.map(formatReason)
                  : e.runtimeReasons.map(formatRuntimeReason);
        this.push(this.applies, {
          at: iso(now),
          reloaded,
          reasons: said,
          runtimeOps,
          durationMs: this.took(now),
          diff,
        });
        this.dropOldTexts();
        break;
      }
    }
  }

  /**
   * Unhealthy once a known change has waited longer than the bound (a quiet cluster stays healthy),
   * or once HAProxy, which ran, has not answered for HAPROXY_SILENT_MS: it is down or wedged, and
   * could not be brought back (a restart that fails counts toward the bound too, but only after it).
   */
  health(): Health {
    // HAProxy that never ran: its first start keeps failing (a full disk, a binary that exits 1, too
    // few file descriptors). The lag bound (--max-apply-age) said healthy for 300 s meanwhile.
    const failing = this.applyFailingSince === null ? 0 : this.deps.now() - this.applyFailingSince;
    if (this.deps.applied.appliedAt === null && !this.haproxy.hasAnswered() && failing > HAPROXY_SILENT_MS)
      return {
        healthy: false,
        reason: `HAProxy has not started: its first config has failed to apply for ${Math.round(failing / 1000)} s; see /status`,
      };
    const silent = this.haproxy.silentForMs();
    if (silent !== null && silent > HAPROXY_SILENT_MS)
      return {
        healthy: false,
        reason: `HAProxy has not answered for ${Math.round(silent / 1000)} s (it is down or wedged); see /status`,
      };
    const since = this.lag.since;
    const maxMs = this.deps.maxApplyAgeMs ?? 300_000;
    if (since === null || maxMs <= 0) return { healthy: true };
    const waitedMs = this.deps.now() - since;
    if (waitedMs <= maxMs) return { healthy: true };
    // No error text: /healthz needs no token, and errors name apps and URLs (they are in /status).
    // A read that has gone on for minutes is named: a Marathon (or proxy) that trickles its answer.
    const reading = this.marathon.readingForMs();
    const stuck =
      reading !== null && reading > LONG_READ_MS
        ? `; the read of Marathon's apps under way has taken ${Math.round(reading / 1000)} s`
        : '';
    return {
      healthy: false,
      reason: `a Marathon change has waited ${Math.round(waitedMs / 1000)} s to be applied (--max-apply-age ${maxMs / 1000} s)${stuck}; see /status`,
    };
  }

  /**
   * Changes when what status() says does, but for the passing of time and the time of the last
   * Marathon event: a /status body made at an equal version may be served again (admin/recentBody.ts).
   */
  version(): number {
    return this.changeCount + this.marathon.changes + this.haproxy.changes;
  }

  /** Why routing may be out of date (/status's `staleReason`, mlb_routing_stale): /healthz's reason, else Marathon's; null when it is not. */
  staleReason(): string | null {
    const health = this.health();
    return health.healthy ? this.marathon.staleReason() : health.reason;
  }

  status(): AdminStatus {
    return this.statusWith((services, made) => services.map(made));
  }

  /**
   * status() with its services made one at a time as the body is printed (slicedJson.ts LazyItems),
   * for the admin API: never all alive at once.
   */
  statusToSend(): unknown {
    return this.statusWith((services, made) => new LazyItems(services.length, (i) => made(services[i]!)));
  }

  private statusWith<L>(
    list: (services: readonly Service[], made: (s: Service) => ServiceStatus) => L,
  ): Omit<AdminStatus, 'services'> & { readonly services: L } {
    const now = this.deps.now();
    const { current, appliedAt } = this.deps.applied;
    const since = this.lag.since;
    const staleReason = this.staleReason();
    const leftOut = leftOutOf(this.latestBuilt ?? current);
    return {
      generatedAt: iso(now),
      lastAppliedAt: appliedAt === null ? null : iso(appliedAt),
      secondsSinceLastApply: appliedAt === null ? null : Math.max(0, (now - appliedAt) / 1000),
      pendingChange: this.pending,
      lastError: this.lastError,
      unappliedChangeSince: since === null ? null : iso(since),
      stale: staleReason !== null,
      staleReason,
      marathon: this.marathon.status(),
      haproxy: this.haproxy.status(),
      // The model's services are what HAProxy serves (applies keep them equal to the rendered ones), also
      // after fast-path changes, whose rendered config is still the snapshot's.
      services: list(current?.model.services ?? [], (s) =>
        serviceStatus(s, this.haproxy, this.deps.healthCheck ?? false),
      ),
      leftOut: leftOut.slice(0, LEFT_OUT_SHOWN).map(problem),
      leftOutTotal: leftOut.length,
      recentApplies: this.applies.map((a) => ({ ...a, reasons: [...a.reasons], diff: this.diffText(a.diff) })),
      recentFailures: [...this.failures],
    };
  }

  private took(now: number): number | null {
    const since = this.applyingSince;
    this.applyingSince = null;
    return since === null ? null : Math.max(0, now - since);
  }

  private fail(f: FailureRecord): void {
    this.lastError = f.kind === 'apply-failed' ? `apply failed: ${f.error}` : f.error;
    this.push(this.failures, f);
  }

  private push<T>(list: T[], item: T): void {
    list.unshift(item);
    list.splice(this.keep);
  }

  /** Older applies whose diffs were not computed give up their texts once newer ones hold the budget. */
  private dropOldTexts(): void {
    let held = 0;
    for (const a of this.applies) {
      held += a.diff.chars;
      if (held > this.maxDiffTextChars && a.diff.text === null) settle(a.diff, DIFF_NOT_KEPT);
    }
  }

  /**
   * Makes the diffs /status shows that are not made yet, a step at a time: the first /status after
   * applies of a big config spent ~1.5 s in them at 5 000 apps, and /healthz waited meanwhile
   * (bench:scale). The admin API calls it before status().
   */
  async prepare(): Promise<void> {
    for (const a of [...this.applies]) {
      const d = a.diff;
      if (d.text !== null) continue;
      const text = await unifiedDiffInSteps(d.previous(), d.next(), this.maxEdits(), this.maxChars());
      if (d.text === null) settle(d, text); // unless given up meanwhile (dropOldTexts)
    }
  }

  private maxEdits(): number {
    return this.deps.maxDiffEdits ?? 2000;
  }

  private maxChars(): number {
    return this.deps.maxDiffChars ?? 64 * 1024;
  }

  private diffText(d: PendingDiff): string {
    return d.text ?? settle(d, unifiedDiff(d.previous(), d.next(), this.maxEdits(), this.maxChars()));
  }
}

const BEFORE = 'haproxy.cfg (before)';
const AFTER = 'haproxy.cfg (after)';

/** `diff -u previous next` of two configs, or a one-line note when it would be too large. */
export function unifiedDiff(previous: string, next: string, maxEdits: number, maxChars: number): string {
  if (previous === next) return '';
  const pair = differingLines(previous, next, CONTEXT);
  const patch = createTwoFilesPatch(BEFORE, AFTER, pair.previous, pair.next, undefined, undefined, {
    context: CONTEXT,
    maxEditLength: maxEdits,
  });
  return shownPatch(patch, maxEdits, maxChars, pair.skipped);
}

const CONTEXT = 3;

/**
 * The two texts without the lines they share at their start and end, but for `context` lines next
 * to the first and last difference (what the patch shows of them), and how many lines went from the
 * start. jsdiff splits both whole texts into lines and joins its runs of equal ones again: at 10 000
 * apps the diff of two 5 MB configs that differ in one server line took 0.4 s and ~80 MB (now 25 ms and
 * ~6 MB), and /status after a few applies took the controller's peak RSS to 412 MiB (bench:scale).
 */
export function differingLines(
  previous: string,
  next: string,
  context: number,
): { readonly previous: string; readonly next: string; readonly skipped: number } {
  const shortest = Math.min(previous.length, next.length);
  // From the start of the line the first difference is in, `context` lines back.
  const head = sharedHead(previous, next, shortest);
  let start = head === 0 ? 0 : previous.lastIndexOf('\n', head - 1) + 1;
  for (let i = 0; i < context && start > 0; i++) start = start < 2 ? 0 : previous.lastIndexOf('\n', start - 2) + 1;
  // From the end of the line the last difference is in (what both share at their end, after the
  // first difference), `context` lines on. A line without its newline at the end is not cut.
  const tail = sharedTail(previous, next, shortest - head);
  let end = previous.length;
  let cut = previous.indexOf('\n', previous.length - tail) + 1;
  for (let i = 0; i < context && cut > 0; i++) cut = previous.indexOf('\n', cut) + 1;
  if (cut > 0 && cut < previous.length) end = cut;
  return {
    previous: previous.slice(start, end),
    next: next.slice(start, end + next.length - previous.length),
    skipped: linesIn(previous, start),
  };
}

/** Characters equal at the start of both, up to `most`: compared a block at a time, then one by one. */
function sharedHead(a: string, b: string, most: number): number {
  const block = 4096;
  let i = 0;
  while (i + block <= most && a.slice(i, i + block) === b.slice(i, i + block)) i += block;
  while (i < most && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Characters equal at the end of both, up to `most`. */
function sharedTail(a: string, b: string, most: number): number {
  const block = 4096;
  let n = 0;
  while (
    n + block <= most &&
    a.slice(a.length - n - block, a.length - n) === b.slice(b.length - n - block, b.length - n)
  )
    n += block;
  while (n < most && a.charCodeAt(a.length - n - 1) === b.charCodeAt(b.length - n - 1)) n++;
  return n;
}

/** Newlines before `end`. */
function linesIn(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * unifiedDiff made a step at a time (jsdiff's async mode: one edit length per turn of the event
 * loop), so that the controller answers meanwhile.
 */
export function unifiedDiffInSteps(
  previous: string,
  next: string,
  maxEdits: number,
  maxChars: number,
): Promise<string> {
  if (previous === next) return Promise.resolve('');
  const pair = differingLines(previous, next, CONTEXT);
  return new Promise((resolve) => {
    createTwoFilesPatch(BEFORE, AFTER, pair.previous, pair.next, undefined, undefined, {
      context: CONTEXT,
      maxEditLength: maxEdits,
      callback: (patch: string | undefined) => resolve(shownPatch(patch, maxEdits, maxChars, pair.skipped)),
    });
  });
}

/** `skipped`: the lines differingLines took from the start, added back to the hunks' line numbers. */
function shownPatch(made: string | undefined, maxEdits: number, maxChars: number, skipped: number): string {
  let patch = made;
  if (patch === undefined) return `(diff not shown: more than ${maxEdits} lines changed)\n`;
  if (patch.startsWith('=')) patch = patch.slice(patch.indexOf('\n') + 1); // jsdiff's ==== separator line
  if (skipped > 0)
    patch = patch.replace(
      /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@/gm,
      (_, a: string, b: string, c: string, d: string) =>
        `@@ -${Number(a) + skipped},${b} +${Number(c) + skipped},${d} @@`,
    );
  if (patch.length <= maxChars) return patch;
  const cut = patch.lastIndexOf('\n', maxChars) + 1;
  const rest = patch.slice(cut).split('\n').length - 1;
  return `${patch.slice(0, cut)}… ${rest} more line(s) of diff not shown\n`;
}

/**
 * Problems /status lists (the total is given too): a snapshot of 100 000 hostile apps made /status
 * 24 MB, each request blocking the controller for half a second, and the dashboard's table froze.
 */
export const LEFT_OUT_SHOWN = 500;

/** The model's problems usually hold the render's too (snapshot.ts, AppliedState): each is listed once. */
function leftOutOf(state: DesiredState | null): Problem[] {
  if (state === null) return [];
  const seen = new Set<string>();
  return [...state.model.problems, ...state.rendered.problems].filter((p) => {
    const k = JSON.stringify([p.appId, p.portIndex, p.label, p.message]);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
