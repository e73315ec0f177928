/**
 * The services HAProxy refuses, found wherever it refuses them, so the rest is applied at once:
 * - at `haproxy -c`: adaptive group testing over re-rendered subsets (see isolate.ts);
 * - at the reload or start although -c passed (the health gate), e.g. a port another process
 *   holds: the proxies HAProxy's startup alerts name ("Binding [cfg:90] for frontend X: cannot
 *   bind socket"), else a bounded number of trial reloads among the services that changed since
 *   the last good state (the unchanged ones ran fine).
 */
import { sameData, serviceShape } from '../model/equality';
import { serviceLabel, type Problem, type Service } from '../model/types';
import type { DesiredState, Rejection } from '../reconcile/applyPort';
import { findCulprits, type Verdict } from './isolate';
import { err, ok, type Result } from '../result';
import type { HaproxyLogger } from './masterSocket';
import { isResourceFault } from './haproxyOutput';
import { linesNaming, proxiesNamed } from './validate';

/** What finding culprits needs from the applier. */
export interface Candidates {
  /** `asked` with only `services` (in their order), re-rendered; `problems` added to its own. */
  readonly subset: (asked: DesiredState, services: readonly Service[], problems?: readonly Problem[]) => DesiredState;
  /** `haproxy -c` on the state's files. */
  readonly check: (state: DesiredState) => Promise<Verdict>;
  /** Makes HAProxy run the state (write, reload or start, health gate); throws when it does not. */
  readonly run: (state: DesiredState) => Promise<void>;
  /** The config HAProxy reads for the state: the line numbers of its alerts point into it. */
  readonly configText: (state: DesiredState) => string;
  readonly logger: HaproxyLogger;
}

/**
 * A service HAProxy rejected, named with its port and the template labels it has (raw HAProxy
 * text, where most rejections come from): the label itself when it has one alone. Named by the
 * backend only, an app owner could not tell which label to fix (found by an audit).
 */
function problem(s: Service, message: string): Rejection {
  const labels = Object.keys(s.templateLabels).map((name) => serviceLabel(s, `HAPROXY_{n}_${name}`));
  const which = labels.length === 0 ? '' : ` (its template label${labels.length > 1 ? 's' : ''}: ${labels.join(', ')})`;
  return {
    service: s,
    problem: {
      appId: s.appId,
      portIndex: s.portIndex,
      label: labels.length === 1 ? labels[0]! : null,
      message: `${message}${which}`,
    },
  };
}

export function without(c: Candidates, state: DesiredState, rejected: readonly Rejection[]): DesiredState {
  const out = new Set(rejected.map((r) => r.service.backend));
  return c.subset(
    state,
    state.model.services.filter((s) => !out.has(s.backend)),
    rejected.map((r) => r.problem),
  );
}

/** `asked` failed `haproxy -c` with `verdict`: the services to leave out, or why none can be blamed. */
export async function rejectedByCheck(
  asked: DesiredState,
  verdict: Verdict,
  c: Candidates,
): Promise<Result<readonly Rejection[]>> {
  const all = asked.model.services;
  let unchecked = null as string | null; // set by the check below (a closure: no narrowing to null)
  const isolated = await findCulprits(
    all,
    async (subset) => {
      if (subset.length === all.length) return verdict; // the whole set was just checked
      if (unchecked !== null) return ok(undefined); // the search is given up: no more checks
      const v = await c.check(c.subset(asked, subset));
      if (v.ok || v.error.unchecked !== true) return v;
      unchecked = v.error.message; // a check that did not complete judges nothing: nobody is blamed
      return ok(undefined);
    },
    { name: (s) => s.backend },
  );
  if (unchecked !== null) return err(`a check did not complete, so no app is blamed: ${unchecked}`);
  if (!isolated.ok) return err(isolated.error.message);
  c.logger.info(
    `haproxy -c: ${isolated.value.culprits.length} of ${all.length} service(s) rejected, found in ${isolated.value.checks} check(s)`,
  );
  return ok(
    isolated.value.culprits.map((x) =>
      problem(
        x.item,
        `HAProxy rejects the config of backend ${x.item.backend}${x.alone ? '' : ' together with the other apps'}, left out: ${x.message}`,
      ),
    ),
  );
}

/** Whether a service is served by `previous` exactly as it is defined now. */
function unchangedSince(previous: DesiredState | null): (s: Service) => boolean {
  const old = new Map((previous?.model.services ?? []).map((s) => [s.backend, s]));
  return (s) => {
    const p = old.get(s.backend);
    return p !== undefined && sameData(serviceShape(p), serviceShape(s));
  };
}

/** At most this many `haproxy -c` runs look for what makes the check hang (each may take its whole timeout). */
const MAX_HANG_CHECKS = 24;

/**
 * `haproxy -c` of `asked` did not finish: the changed services it hangs on, so that one
 * app (a label naming a file swapped for a FIFO, a host name whose DNS never answers) cannot hold
 * every other app's change. Only what hangs or fails alone, beside the services `previous` serves
 * unchanged, is blamed: when those alone do not pass, or the hang comes only with several changes
 * together (a slow machine, a config grown past the timeout), nobody is, and the apply is retried.
 * Blamed services are tried again later, as gate rejections are (the hang may have been the machine's).
 */
export async function rejectedByHang(
  asked: DesiredState,
  previous: DesiredState | null,
  c: Candidates,
): Promise<Result<readonly Rejection[]>> {
  const unchanged = unchangedSince(previous);
  const changed = asked.model.services.filter((s) => !unchanged(s));
  if (changed.length === 0) return err('no service changed since the last config HAProxy took');
  c.logger.warn(`haproxy -c did not finish: looking for what it hangs on among ${changed.length} changed service(s)`);
  // Every set is checked anew, the whole changed set too: the hang just seen may have been the
  // machine's, which the unchanged services' own check (the first) may find over.
  const refusedAlone = new Set<Service>(); // refused outright (not a hang): left out as a refusal is
  const isolated = await findCulprits(
    changed,
    async (subset) => {
      const inTrial = new Set(subset);
      const v = await c.check(
        c.subset(
          asked,
          asked.model.services.filter((s) => inTrial.has(s) || unchanged(s)),
        ),
      );
      if (v.ok) return v;
      if (v.error.unchecked !== true) {
        if (subset.length === 1) refusedAlone.add(subset[0]!);
        return v;
      }
      return err({ message: v.error.message }); // a hang counts as a failure here
    },
    { name: (s) => s.backend, maxChecks: MAX_HANG_CHECKS, aloneOnly: true },
  );
  if (!isolated.ok) {
    const why = {
      global: 'the config without the changed services does not pass either',
      budget: `none found in ${MAX_HANG_CHECKS} checks`,
      combination: 'no changed service makes it hang alone',
    }[isolated.error.kind];
    return err(`no app is blamed (${why}): ${isolated.error.message}`);
  }
  c.logger.info(
    `haproxy -c: ${isolated.value.culprits.length} of ${changed.length} changed service(s) make it hang or fail, found in ${isolated.value.checks} check(s)`,
  );
  return ok(
    isolated.value.culprits.map((x) =>
      refusedAlone.has(x.item)
        ? problem(x.item, `HAProxy rejects the config of backend ${x.item.backend}, left out: ${x.message}`)
        : {
            ...problem(x.item, `haproxy -c does not finish with backend ${x.item.backend}, left out: ${x.message}`),
            retried: true as const,
          },
    ),
  );
}

/** Why running a state failed; `refused`: HAProxy refused the config (not a timeout or a dead socket). */
export interface GateFailure {
  readonly message: string;
  readonly refused: boolean;
}

/**
 * HAProxy refused to run `next` (its reload or start failed with `failure`) although `haproxy -c`
 * passed. The services to leave out, and whether trial configs ran (HAProxy then runs one of them,
 * not the last good state); null when the failure is no refusal or nobody could be blamed in `maxTrials`.
 */
export async function rejectedAtGate(
  failure: GateFailure,
  next: DesiredState,
  previous: DesiredState | null,
  c: Candidates,
  maxTrials: number,
): Promise<{ readonly rejected: readonly Rejection[]; readonly trials: boolean } | null> {
  if (!failure.refused) return null; // a timeout or a dead socket: nobody to blame
  const { message } = failure;
  if (isResourceFault(message)) return null;
  const reject = (s: Service, why: string): Rejection => ({
    ...problem(s, `HAProxy cannot run backend ${s.backend} (its config passes haproxy -c), left out: ${why}`),
    retried: true,
  });
  const named = new Set(proxiesNamed(message, c.configText(next)));
  const culprits = next.model.services.filter((s) => named.has(s.backend));
  if (culprits.length > 0) {
    c.logger.warn(
      `HAProxy refused the new config because of ${culprits.map((s) => s.backend).join(', ')}: leaving them out`,
    );
    return { rejected: culprits.map((s) => reject(s, linesNaming(message, s.backend))), trials: false };
  }
  const unchanged = unchangedSince(previous);
  const changed = next.model.services.filter((s) => !unchanged(s));
  c.logger.warn(
    `HAProxy refused the new config without naming an app: trial reloads among ${changed.length} changed service(s)`,
  );
  const isolated = await findCulprits(
    changed,
    async (subset): Promise<Verdict> => {
      if (subset.length === changed.length) return err({ message }); // what just failed
      const trial = new Set(subset);
      const state = c.subset(
        next,
        next.model.services.filter((s) => trial.has(s) || unchanged(s)),
      );
      try {
        await c.run(state);
        return ok(undefined);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        return err({ message: why, named: proxiesNamed(why, c.configText(state)) });
      }
    },
    { name: (s) => s.backend, maxChecks: maxTrials },
  );
  if (!isolated.ok) {
    c.logger.warn(
      `trial reloads found no app to blame (${isolated.error.kind === 'budget' ? `none in ${maxTrials} trials` : 'the unchanged apps fail too'})`,
    );
    return null;
  }
  return { rejected: isolated.value.culprits.map((x) => reject(x.item, x.message)), trials: true };
}
