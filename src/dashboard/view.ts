/*
 * What the dashboard says about each part of /status, decided once here (pure, tested in node) and
 * only drawn by render.ts. Every state is text first; the tone only colours it.
 */
import type {
  AdminStatus,
  MarathonHealth,
  MarathonStatus,
  ProxyTraffic,
  ServerStatus,
  ServiceStatus,
} from '../admin/statusTypes';
import { ago, duration } from './format';

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

export interface Badge {
  readonly text: string;
  readonly tone: Tone;
  /** Longer text for a tooltip and screen readers. */
  readonly title: string;
}

export interface ServerView {
  /** HAProxy's state when it was read, else what the controller wrote. */
  readonly state: Badge;
  /** The last check with its reason, e.g. "L7STS 503: Layer7 wrong status"; '' without checks. */
  readonly check: string;
  /** "changed 3 min ago", '' when HAProxy does not say. */
  readonly changed: string;
  readonly marathon: Badge;
}

const MARATHON_HEALTH: Readonly<Record<MarathonHealth, Badge>> = {
  healthy: { text: 'healthy', tone: 'ok', title: "Marathon's health checks pass" },
  unknown: {
    text: 'not read',
    tone: 'muted',
    title: 'the app has Marathon health checks, but without --health-check their results are not read',
  },
  none: { text: 'no checks', tone: 'muted', title: 'the app has no Marathon health checks' },
};

const STATE_TONE: Readonly<Record<string, Tone>> = {
  UP: 'ok',
  DOWN: 'bad',
  MAINT: 'muted',
  DRAIN: 'warn',
  NOLB: 'warn',
  UNKNOWN: 'warn',
};

export function serverView(v: ServerStatus, now: number): ServerView {
  const marathon = MARATHON_HEALTH[v.marathonHealth];
  const h = v.haproxy;
  if (h === null) {
    // Not "up": HAProxy may have it DOWN (a reload started it from its saved state), found by an audit.
    const text = v.draining ? 'not read (config: draining)' : 'not read (config: up)';
    return {
      state: {
        text,
        tone: 'muted',
        title:
          "HAProxy's state of this server has not been read (yet, or since HAProxy last answered); the config the controller wrote has it as shown",
      },
      check: '',
      changed: '',
      marathon,
    };
  }
  const c = h.check;
  const check =
    c === null
      ? h.checked
        ? ''
        : 'not checked'
      : `${c.status}${c.code === null ? '' : ` ${c.code}`}: ${c.description || (c.passed ? 'passed' : 'failed')}`;
  return {
    // "no check" is HAProxy's status of an unchecked UP server: say UP, and "not checked" beside it.
    state: {
      text: h.checked ? h.status || h.state : h.state,
      tone: STATE_TONE[h.state] ?? 'warn',
      title: `HAProxy: ${h.status}${v.draining ? ' (the controller drains it)' : ''}`,
    },
    check,
    changed: h.lastChangeAt === null ? '' : `changed ${ago(h.lastChangeAt, now)}`,
    marathon,
  };
}

export interface Banner {
  readonly text: string;
  readonly tone: 'bad' | 'warn';
}

/** The banner at the top: routing may be out of date (from /status's `stale`), or null. */
export function staleBanner(s: AdminStatus): Banner | null {
  if (!s.stale) return null;
  return { text: `Routing may be out of date: ${s.staleReason ?? 'see Marathon below'}`, tone: 'bad' };
}

export interface Fact {
  readonly label: string;
  readonly value: string;
  readonly tone: Tone;
}

/** The Marathon panel: stream state, last event, last snapshot, last fetch error. */
/** A read of Marathon shown on the dashboard from this long on. */
const LONG_READ_SECONDS = 10;

export function marathonFacts(m: MarathonStatus, now: number): readonly Fact[] {
  const stream: Fact = !m.eventStream
    ? { label: 'Event stream', value: 'not used (polling)', tone: 'muted' }
    : m.streamConnected
      ? {
          label: 'Event stream',
          value: `connected for ${m.connectedSince === null ? '?' : duration((now - Date.parse(m.connectedSince)) / 1000)}`,
          tone: 'ok',
        }
      : {
          label: 'Event stream',
          value: `disconnected${m.disconnectedSince === null ? '' : ` for ${duration((now - Date.parse(m.disconnectedSince)) / 1000)}`}`,
          tone: 'bad',
        };
  const failing = m.consecutiveFetchFailures > 0;
  const facts: Fact[] = [
    stream,
    { label: 'Last event', value: ago(m.lastEventAt, now), tone: 'muted' },
    // With the stream down, the last snapshot is as fresh as routing gets: not "ok" any more.
    {
      label: 'Last snapshot',
      value: ago(m.lastSnapshotAt, now),
      tone: failing ? 'bad' : m.lastSnapshotAt === null || stream.tone === 'bad' ? 'warn' : 'ok',
    },
  ];
  // A read of a few seconds is every snapshot's; a long one (a big or slow Marathon) is worth seeing.
  if (m.fetchingSince !== null && (now - Date.parse(m.fetchingSince)) / 1000 >= LONG_READ_SECONDS)
    facts.push({
      label: 'Reading /v2/apps',
      value: `for ${duration((now - Date.parse(m.fetchingSince)) / 1000)}`,
      tone: 'warn',
    });
  if (m.lastFetchError !== null) {
    const count = failing ? ` (${m.consecutiveFetchFailures} failing in a row)` : ' (recovered since)';
    facts.push({
      label: 'Last fetch error',
      value: `${ago(m.lastFetchError.at, now)}${count}: ${m.lastFetchError.error}`,
      tone: failing ? 'bad' : 'muted',
    });
  }
  return facts;
}

/**
 * The most app cards drawn at once, and servers listed per backend: a big cluster's page drew every
 * one of 50 000 servers (a 26 MB DOM, redrawn at each read). The rest are counted; the filter finds them.
 */
export const APPS_DRAWN = 100;
export const SERVERS_DRAWN = 50;

export interface ServicesShown {
  /** App ids with their services, in /status's order, at most APPS_DRAWN. */
  readonly apps: readonly (readonly [string, readonly ServiceStatus[]])[];
  /** Apps with a service the filter matches (every app without a filter). */
  readonly matching: number;
}

/**
 * The services to draw: those whose app id, backend, host, path, service port or a server's address
 * holds `filter` (any case); apps with a server HAProxy does not have UP first (an audit: a DOWN
 * server of the 2 503rd app was only a count), the others in /status's order.
 */
export function servicesShown(services: readonly ServiceStatus[], filter: string): ServicesShown {
  const needle = filter.trim().toLowerCase();
  const byApp = new Map<string, ServiceStatus[]>();
  for (const s of services) {
    if (needle !== '' && !serviceText(s).includes(needle)) continue;
    const list = byApp.get(s.appId);
    if (list === undefined) byApp.set(s.appId, [s]);
    else list.push(s);
  }
  const apps = [...byApp];
  const troubled = new Set(apps.filter(([, list]) => list.some((s) => s.servers.some((v) => !isUp(v)))));
  const ordered = troubled.size === 0 ? apps : [...troubled, ...apps.filter((a) => !troubled.has(a))];
  return { apps: ordered.slice(0, APPS_DRAWN), matching: byApp.size };
}

const isUp = (v: ServerStatus): boolean => v.haproxy?.state === 'UP';

const serviceText = (s: ServiceStatus): string =>
  [s.appId, s.backend, s.hostname ?? '', s.path ?? '', String(s.servicePort), ...s.servers.map((v) => v.address)]
    .join('\n')
    .toLowerCase();

export interface ServersShown {
  readonly servers: readonly ServerStatus[];
  /** Servers not listed, and how many of those HAProxy does not have UP. */
  readonly notListed: number;
  readonly notListedDown: number;
}

/** A backend's servers to list: all up to SERVERS_DRAWN, else those HAProxy does not have UP first, so a problem shows. */
export function serversShown(servers: readonly ServerStatus[]): ServersShown {
  if (servers.length <= SERVERS_DRAWN) return { servers, notListed: 0, notListedDown: 0 };
  const notUp = servers.filter((v) => !isUp(v));
  const ordered = [...notUp, ...servers.filter(isUp)];
  return {
    servers: ordered.slice(0, SERVERS_DRAWN),
    notListed: servers.length - SERVERS_DRAWN,
    notListedDown: Math.max(0, notUp.length - SERVERS_DRAWN),
  };
}

/** The most frontends or backends the traffic tables list (each row draws a chart): 5 000 made a 5 MB page. */
export const PROXIES_DRAWN = 50;

/** The proxies to list: those not UP/OPEN first, then the busiest; the number not listed. */
export function proxiesShown(list: readonly ProxyTraffic[]): {
  readonly proxies: readonly ProxyTraffic[];
  readonly notListed: number;
} {
  if (list.length <= PROXIES_DRAWN) return { proxies: list, notListed: 0 };
  const down = (t: ProxyTraffic): number => (/^(UP|OPEN)$/.test(t.status) ? 1 : 0);
  const proxies = [...list]
    .sort(
      (a, b) =>
        down(a) - down(b) || b.http5xxPerSecond - a.http5xxPerSecond || b.requestsPerSecond - a.requestsPerSecond,
    )
    .slice(0, PROXIES_DRAWN);
  return { proxies, notListed: list.length - PROXIES_DRAWN };
}
