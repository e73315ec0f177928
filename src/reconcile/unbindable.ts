import type { Unbindable } from '../haproxy/portHeld';
import { serviceLabel, type Service } from '../model/types';
import type { DesiredState, Rejection } from './applyPort';
import type { AppliedState } from './appliedState';

/** Why HAProxy could not bind a frontend's address and port now, or null (haproxy/portHeld.ts). */
export type WhyUnbindable = (bindAddr: string, port: number, bindOptions: string | null) => Promise<Unbindable | null>;

/** New listeners probed per snapshot: beyond, a snapshot of that many new apps is tried blind. */
const MAX_BIND_PROBES = 256;

/**
 * Before a snapshot's reload, the listeners HAProxy could not bind, probed with `why`:
 * - new ones (apps not yet served, changed ports): left out before HAProxy is asked to run them,
 *   named, and remembered in `applied` as rejected, to be tried again later (30 s, doubling);
 * - those of rejected apps due another try: returned, their try put off (AppliedState.withoutRejectedSteps).
 * A reload that cannot bind pauses every app's listeners while HAProxy retries, ~2 s of refused
 * connections (found by an attack: a new app on a port another process held, or with a bind address
 * not of this host, did it at its first try and at every retry).
 */
export async function unbindableRetries(
  applied: AppliedState,
  state: DesiredState,
  why: WhyUnbindable,
  now: () => number,
): Promise<ReadonlySet<string>> {
  const due = applied.dueRetries(state, now());
  const fresh = applied.newListeners(state).slice(0, MAX_BIND_PROBES);
  if (due.length === 0 && fresh.length === 0) return new Set();
  const probe = (s: Service): Promise<Unbindable | null> => why(s.bindAddr, s.servicePort, s.bindOptions);
  const [dueWhy, freshWhy] = await Promise.all([Promise.all(due.map(probe)), Promise.all(fresh.map(probe))]);
  const refusals: Rejection[] = [];
  fresh.forEach((s, i) => {
    const cause = freshWhy[i];
    if (cause !== null && cause !== undefined) refusals.push(unbindable(s, cause));
  });
  applied.refuse(refusals, now());
  return new Set(due.filter((_, i) => dueWhy[i] !== null).map((s) => s.backend));
}

function unbindable(svc: Service, { reason, address }: Unbindable): Rejection {
  return {
    service: svc,
    retried: true,
    problem: {
      appId: svc.appId,
      portIndex: address ? svc.portIndex : null,
      label: address ? serviceLabel(svc, 'HAPROXY_{n}_BIND_ADDR') : null,
      message: `HAProxy cannot bind ${svc.bindAddr || '*'}:${svc.servicePort} for backend ${svc.backend}: ${reason} (found before reloading HAProxy, whose reload would pause every app's listeners while it retried); tried again 30 s later, then less often`,
    },
  };
}
