/**
 * Which of an app's labels HAProxy refuses. Subsets of the labels whose text reaches the config
 * are checked with `haproxy -c` (the others kept), by the group testing the service uses to find
 * the apps HAProxy refuses (src/haproxy/isolate.ts); without a label to blame, the service ports
 * HAProxy refuses alone are named.
 */
import type { Service } from '../model/types';
import { findCulprits, type Verdict } from '../haproxy/isolate';
import { err } from '../result';
import { TEMPLATE_LABEL_NAMES } from '../templates/catalog';
import type { RenderedConfig } from '../render/render';
import { fixFor, type Finding } from './report';

type Obj = Record<string, unknown>;

/** Label subsets tried; group testing needs about 2·k·log2(n) for k bad labels among n. */
const MAX_BLAME_CHECKS = 40;

/**
 * Labels whose text reaches the config as written: per-app templates, bind options, certificate
 * files. The others are checked by the model and only switch these on or off (a MODE that makes an
 * HTTP_OPTIONS label count is not to blame).
 */
const rawLabel = (label: string): boolean => {
  const m = /^HAPROXY_\d+_(.+)$/.exec(label);
  return m !== null && (TEMPLATE_LABEL_NAMES.has(m[1] as string) || m[1] === 'BIND_OPTIONS' || m[1] === 'SSL_CERT');
};

/**
 * The labels HAProxy refuses: subsets of the app's per-port labels are checked (the others
 * removed); a subset that passes only because a service was left out counts as failing.
 */
export async function blame(
  app: Obj,
  served: readonly Service[],
  message: string,
  evaluate: (app: Obj) => Promise<{ rendered: RenderedConfig }>,
  check: (r: RenderedConfig) => Promise<Verdict>,
  indexOf: (s: Service) => number | null,
  render: (services: readonly Service[]) => RenderedConfig,
): Promise<Finding[]> {
  const labels = (app['labels'] ?? {}) as Readonly<Record<string, string>>;
  const candidates = Object.keys(labels).filter(rawLabel).sort();
  const withOnly = async (kept: readonly string[]): Promise<Verdict> => {
    const keep = new Set(kept);
    const rest = Object.fromEntries(Object.entries(labels).filter(([k]) => !candidates.includes(k) || keep.has(k)));
    let ev;
    try {
      ev = await evaluate({ ...app, labels: rest });
    } catch {
      return err({ message: 'does not render' });
    }
    if (ev.rendered.served.length < served.length)
      return err({ message: 'a service port is left out without the other labels' });
    return check(ev.rendered);
  };
  const found =
    candidates.length === 0
      ? null
      : await findCulprits(
          candidates,
          (subset) => (subset.length === candidates.length ? Promise.resolve(err({ message })) : withOnly(subset)),
          { name: (l) => l, maxChecks: MAX_BLAME_CHECKS },
        );
  if (found !== null && found.ok && found.value.culprits.length > 0) {
    return found.value.culprits.map((c) => {
      const portIndex = Number(/^HAPROXY_(\d+)_/.exec(c.item)?.[1]);
      const together = c.alone ? '' : ' (together with the labels before it)';
      return {
        portIndex,
        label: c.item,
        message: `HAProxy refuses the config with this label${together}:\n${c.message}`,
        fix: fixFor(c.item, '', 'haproxy'),
        by: 'haproxy',
      };
    });
  }
  // No label to blame (e.g. the app's own fields, or labels only together): name the service ports HAProxy refuses alone.
  const alone: Finding[] = [];
  for (const s of served) {
    const v = await check(render([s]));
    if (!v.ok)
      alone.push({
        portIndex: indexOf(s),
        label: null,
        message: `HAProxy refuses backend ${s.backend} (no single label to blame):\n${v.error.message}`,
        fix: fixFor(null, '', 'haproxy'),
        by: 'haproxy',
      });
  }
  return alone.length > 0
    ? alone
    : [
        {
          portIndex: null,
          label: null,
          message: `HAProxy refuses this app's service ports only together:\n${message}`,
          fix: fixFor(null, '', 'haproxy'),
          by: 'haproxy',
        },
      ];
}

/** HAProxy's message with the temp path shortened and each `[haproxy.cfg:N]` followed by line N's text. */
export function withConfigLines(message: string, cfgPath: string, text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (const line of message.split(cfgPath).join('haproxy.cfg').split('\n')) {
    out.push(line);
    for (const m of line.matchAll(/\[haproxy\.cfg:(\d+)\]/g)) {
      const at = lines[Number(m[1]) - 1];
      if (at !== undefined) out.push(`  haproxy.cfg line ${m[1]}: ${at.trim()}`);
    }
  }
  return out.join('\n');
}
