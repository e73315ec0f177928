/**
 * marathon-lb's global `maxconn 50000` needs ~100 000 open files; HAProxy ≥ 2.3 refuses to start
 * when it cannot get them (strict-limits). Its image is run with a high limit; a shell, a systemd
 * service or a CI runner outside it often has a hard limit of 1 024–65 536, and this service,
 * unprivileged, cannot raise a hard limit (HAProxy raises the soft limit up to the hard one by
 * itself, so the soft limit is never the problem).
 *
 * The least surprising choice: HAProxy still starts and serves, with `maxconn` in global lowered to
 * what the hard limit allows — leaving room for the listening sockets apps add — and a warning that
 * names both numbers and how to get the full 50000 back. Refusing to start (the old behaviour)
 * serves nobody; `no strict-limits` would let HAProxy run out of descriptors under load and pause
 * its listeners instead of queueing at a known bound. The config text on disk shows the value.
 */
import {
  configSections,
  estimateMaxsock,
  workerMaxsock,
  parseFdFacts,
  type FdEnvironment,
  type FdEstimateOptions,
} from '../haproxy/limits';

export interface MaxconnFit {
  /** The template text, with the lowered maxconn when one was needed. */
  readonly text: string;
  readonly maxconn?: { readonly from: number; readonly to: number };
  readonly warning?: string;
}

/** Listening sockets kept free for apps' frontends (each service port binds one): a quarter of the limit, at least 64. */
export function listenerReserve(limit: number): number {
  return Math.max(64, Math.floor(limit / 4));
}

/**
 * HAPROXY_HEAD's text with its global `maxconn` lowered to fit `env`'s fd limit, if it does not fit.
 * `o.reserve`: listening sockets to leave room for beyond the text's own bind lines (default
 * listenerReserve(limit), for a HEAD alone; 0 for a whole rendered config).
 */
export function fitMaxconn(
  headText: string,
  env: FdEnvironment,
  o: FdEstimateOptions & { readonly reserve?: number } = {},
): MaxconnFit {
  const facts = parseFdFacts(headText);
  const asked = facts.maxconn;
  // ulimit-n is an explicit request, and without strict-limits HAProxy adapts by itself: left as written.
  if (asked === undefined || facts.ulimitN !== undefined || !facts.strictLimits) return { text: headText };
  const caps = [env.canRaiseHardLimit ? env.nrOpen : env.hardLimit, facts.fdHardLimit].filter(
    (x): x is number => x !== undefined,
  );
  if (caps.length === 0) return { text: headText };
  const limit = Math.min(...caps);
  const reserve = o.reserve ?? listenerReserve(limit);
  const withApps = { ...facts, listeners: facts.listeners + reserve };
  const needed = estimateMaxsock(withApps, asked, o);
  if (needed <= limit) return { text: headText };
  let fitting = Math.floor(
    (limit - workerMaxsock(withApps, 0, o)) / (facts.splice && facts.maxpipes === undefined ? 2.5 : 2),
  );
  while (fitting > 0 && estimateMaxsock(withApps, fitting, o) > limit) fitting--;
  if (fitting < 1) return { text: headText }; // nothing fits: the apply's fd check says why
  const lines = headText.split('\n');
  const global = configSections(lines).find((s) => s.kind === 'global');
  if (global === undefined) return { text: headText };
  for (let i = global.start + 1; i < global.end; i++) {
    const m = /^(\s*maxconn\s+)(\d+)(.*)$/.exec(lines[i] as string);
    if (m) lines[i] = `${m[1] as string}${fitting}${m[3] as string}`;
  }
  const full = estimateMaxsock(facts, asked, o);
  return {
    text: lines.join('\n'),
    maxconn: { from: asked, to: fitting },
    warning:
      `HAProxy runs with \`maxconn ${fitting}\` instead of the template's \`maxconn ${asked}\`: that needs about ${full} open files, ` +
      `but the hard limit of this process is ${limit} (\`ulimit -Hn\`), which an unprivileged process cannot raise, and ` +
      `HAProxy 2.3+ would refuse to start. ${reserve} of them are kept for the apps' listening sockets. For the full ` +
      `${asked}, start marathon-lb with a higher limit — \`ulimit -n ${full + reserve}\` in its shell (as root), \`LimitNOFILE=${full + reserve}\` ` +
      `in its systemd unit, or \`docker run --ulimit nofile=${full + reserve}:${full + reserve}\`.`,
  };
}
