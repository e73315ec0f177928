/**
 * Why HAProxy is reloaded: data where the decision is made (plan, the apply transaction), text only
 * where people read it (logs, /status), a fixed category only where it is counted (metrics). No
 * part of the program parses the text back.
 */
export type ReloadReason =
  /** The first apply of this controller: HAProxy runs whatever config it started with. */
  | { readonly kind: 'initial' }
  | { readonly kind: 'backend-added'; readonly backend: string }
  | { readonly kind: 'backend-removed'; readonly backend: string }
  | { readonly kind: 'settings-changed'; readonly backend: string; readonly fields: readonly string[] }
  /** A server kept its name but changed its definition (id, address, check port). */
  | { readonly kind: 'server-changed'; readonly backend: string; readonly server: string }
  | { readonly kind: 'duplicate-server'; readonly backend: string; readonly server: string }
  | { readonly kind: 'static-rr'; readonly backend: string }
  /** A hashing algorithm without `hash-type consistent`: HAProxy refuses runtime servers there too. */
  | { readonly kind: 'map-based-hash'; readonly backend: string; readonly balance: string }
  /** So many server changes, in so big backends, that a reload applies them sooner than the runtime API (plan.ts). */
  | { readonly kind: 'many-server-changes'; readonly servers: number; readonly largestBackend: string }
  /** Templates, global options or anything else printed outside server lines. */
  | { readonly kind: 'config-changed' }
  /** The diff threw: a full reload applies the change anyway. */
  | { readonly kind: 'plan-failed'; readonly error: string }
  /** HAProxy was not running: it is started with the config. */
  | { readonly kind: 'not-running' }
  /** The runtime API refused an operation (or a server needs options dynamic servers lack). */
  | { readonly kind: 'runtime-refused'; readonly detail: string }
  /** The runtime update went through but `haproxy -c` rejects the file: a reload leaves out the rejected apps. */
  | { readonly kind: 'runtime-config-rejected'; readonly detail: string }
  /** --command mode: HAProxy is not ours, its runtime API is not used; every change is a reload. */
  | { readonly kind: 'external-reload'; readonly runtimeOps: number }
  /** Trial configs ran while finding apps HAProxy cannot run: only a reload brings it to the result. */
  | { readonly kind: 'after-trials' }
  /** SIGUSR1: the config already on disk. */
  | { readonly kind: 'sigusr1' }
  /** HAProxy exited unexpectedly: started again with the config already on disk. */
  | { readonly kind: 'haproxy-restarted' }
  /** The master socket file is gone while the master runs: a reload by signal binds it again. */
  | { readonly kind: 'master-socket-gone' }
  /** HAProxy runs but has not answered for HAPROXY_SILENT_MS: a new worker takes over from a wedged one. */
  | { readonly kind: 'haproxy-silent' };

/** Why the config already on disk is reloaded (ApplyPort.reloadExisting). */
export type ExistingConfigReason = Extract<
  ReloadReason,
  { readonly kind: 'sigusr1' | 'haproxy-restarted' | 'master-socket-gone' | 'haproxy-silent' }
>;

/** One line for people. */
export function formatReason(r: ReloadReason): string {
  switch (r.kind) {
    case 'initial':
      return 'initial configuration';
    case 'backend-added':
      return `backend ${r.backend} added`;
    case 'backend-removed':
      return `backend ${r.backend} removed`;
    case 'settings-changed':
      return `backend ${r.backend} settings changed (${r.fields.join(', ')})`;
    case 'server-changed':
      return `backend ${r.backend} server ${r.server} changed its definition`;
    case 'duplicate-server':
      return `backend ${r.backend} has two servers named ${r.server}`;
    case 'static-rr':
      return `backend ${r.backend} uses static-rr, which refuses runtime server changes`;
    case 'map-based-hash':
      return `backend ${r.backend} balances by ${r.balance.split(/\s/)[0]} on a map (no hash-type consistent), which refuses runtime server changes`;
    case 'many-server-changes':
      return `${r.servers} server changes (the largest backend: ${r.largestBackend}): a reload applies them sooner than the runtime API`;
    case 'config-changed':
      return 'config changed outside server lines (templates or options)';
    case 'plan-failed':
      return `full reload: planning runtime changes failed (${r.error})`;
    case 'not-running':
      return 'HAProxy not running: starting it';
    case 'runtime-refused':
      return `runtime API could not apply the change (${r.detail})`;
    case 'runtime-config-rejected':
      return `haproxy -c rejects the config after a runtime update (file not written): ${r.detail}`;
    case 'external-reload':
      return `--command mode reloads for every change (${r.runtimeOps} server change(s))`;
    case 'after-trials':
      return 'back from trial reloads that found the apps HAProxy cannot run';
    case 'sigusr1':
      return 'SIGUSR1: reload the existing config';
    case 'haproxy-restarted':
      return 'HAProxy exited unexpectedly: restarted with the existing config';
    case 'master-socket-gone':
      return "HAProxy's master socket file is gone: reloaded with the existing config, which binds it again";
    case 'haproxy-silent':
      return 'HAProxy runs but has not answered for 30 s (a worker stopped or wedged): reloaded with the existing config, a new worker serves';
  }
}

/** The label of `mlb_reloads_total`: the kind, in Prometheus' spelling (a small, fixed set). */
export function reasonCategory(r: ReloadReason): string {
  return r.kind.replace(/-/g, '_');
}
