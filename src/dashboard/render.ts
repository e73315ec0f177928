/*
 * Draws each part of /status into its section. Decisions (texts, tones) come from view.ts; this file
 * only builds elements.
 */
import type {
  AdminStatus,
  ApplyRecord,
  FailureRecord,
  HaproxyStatus,
  ProxyTraffic,
  ServiceStatus,
} from '../admin/statusTypes';
import type { Problem } from '../model/types';
import { trafficChart } from './chartDom';
import { h, replace, byId, type Child } from './dom';
import { ago, diffLineKind, rate } from './format';
import { marathonFacts, proxiesShown, serverView, serversShown, servicesShown, type Badge, type Tone } from './view';

const badge = (b: Badge, extra = ''): HTMLElement =>
  h('span', { cls: `badge tone-${b.tone}${extra}`, text: b.text, title: b.title });
const toned = (text: string, tone: Tone): HTMLElement => h('span', { cls: `badge tone-${tone}`, text });
const when = (iso: string): string => new Date(iso).toLocaleString();
const empty = (text: string): HTMLElement => h('p', { cls: 'empty', text });

function setCount(id: string, n: number): void {
  byId(id).textContent = `(${n})`;
}

/** A table with a heading row (`stack`: its rows become cards on narrow screens); `emptyText` stands in for no rows. */
function stackTable(
  cls: string,
  headings: readonly string[],
  rows: readonly HTMLElement[],
  emptyText: string,
): HTMLElement {
  return h(
    'table',
    { cls },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        headings.map((t) => h('th', { text: t })),
      ),
    ),
    h(
      'tbody',
      null,
      rows.length ? rows : h('tr', null, h('td', { colspan: String(headings.length), cls: 'empty', text: emptyText })),
    ),
  );
}

export function renderMarathon(s: AdminStatus, now: number): void {
  replace('marathon', [
    h(
      'dl',
      { cls: 'facts card' },
      marathonFacts(s.marathon, now).map((f) =>
        h('div', { cls: 'fact' }, h('dt', { text: f.label }), h('dd', null, toned(f.value, f.tone))),
      ),
    ),
  ]);
}

/** sessions · req/s · 5xx/s and the chart, as one block (used for services and the proxy table). */
function trafficCells(t: ProxyTraffic, hs: HaproxyStatus): Child[] {
  return [
    h('span', { cls: 'num', 'data-metric': 'sessions' }, h('b', { text: String(t.currentSessions) }), ' sessions'),
    h('span', { cls: 'num', 'data-metric': 'requests' }, h('b', { text: rate(t.requestsPerSecond) }), ' req'),
    h(
      'span',
      { cls: `num${t.http5xxPerSecond > 0 ? ' tone-text-bad' : ''}`, 'data-metric': '5xx' },
      h('b', { text: rate(t.http5xxPerSecond) }),
      ' 5xx',
    ),
    trafficChart(t.history, hs.historyPoints, hs.historyStepSeconds),
    h('span', { cls: 'muted small', text: `last ${Math.round((hs.historyPoints * hs.historyStepSeconds) / 60)} min` }),
  ];
}

export function renderTraffic(hs: HaproxyStatus, now: number): void {
  if (!hs.enabled)
    return replace('traffic', [empty('HAProxy is not read (--command mode or --haproxy-stats-interval 0).')]);
  const state =
    hs.error !== null
      ? toned(`cannot read HAProxy: ${hs.error}`, 'bad')
      : toned(`read ${ago(hs.readAt, now)}, every ${hs.intervalSeconds} s`, hs.readAt === null ? 'warn' : 'ok');
  const counts =
    hs.serversByState === null
      ? 'servers unknown'
      : Object.entries(hs.serversByState)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ') || 'no servers';
  const rows = (kind: string, list: readonly ProxyTraffic[]): HTMLElement[] =>
    list.map((t) =>
      h(
        'tr',
        { 'data-proxy': t.name },
        h('td', { cls: 'mono', 'data-label': kind, text: t.name }),
        h('td', { 'data-label': 'status' }, toned(t.status, /^(UP|OPEN)$/.test(t.status) ? 'ok' : 'bad')),
        h('td', { cls: 'traffic', 'data-label': 'traffic' }, h('div', { cls: 'meta' }, trafficCells(t, hs))),
      ),
    );
  const table = (kind: string, list: readonly ProxyTraffic[]): HTMLElement => {
    const shown = proxiesShown(list);
    return h(
      'div',
      { cls: 'card' },
      stackTable(
        'stack',
        [kind, 'Status', 'Sessions, requests and 5xx per second, last minutes'],
        rows(kind, shown.proxies),
        `no ${kind.toLowerCase()}s`,
      ),
      shown.notListed === 0
        ? null
        : h('p', {
            cls: 'muted small not-listed',
            text: `${shown.notListed} more ${kind.toLowerCase()}(s) not listed: those not UP and the busiest are (see /status)`,
          }),
    );
  };
  replace('traffic', [
    h('div', { cls: 'row' }, state, h('span', { cls: 'muted', text: `servers: ${counts}` })),
    table('Frontend', hs.frontends),
    table('Backend', hs.backends),
  ]);
}

export function renderServices(
  services: readonly ServiceStatus[],
  hs: HaproxyStatus,
  now: number,
  filter: string,
): void {
  setCount('services-count', services.length);
  if (services.length === 0) return replace('services', [empty('No services applied yet.')]);
  const shown = servicesShown(services, filter);
  const note =
    shown.matching === 0
      ? empty(`No app matches "${filter.trim()}".`)
      : shown.matching > shown.apps.length
        ? h('p', {
            cls: 'muted',
            text: `Showing ${shown.apps.length} of ${shown.matching} apps${filter.trim() === '' ? '' : ' that match'}: filter to find the others.`,
          })
        : null;
  replace('services', [
    ...shown.apps.map(([appId, list]) =>
      h(
        'article',
        { cls: 'card app', 'data-app': appId },
        h('h3', { text: appId }),
        list.map((s) => {
          const route = `${s.hostname ?? ''}${s.path ?? ''}`;
          const listed = serversShown(s.servers);
          const rows = listed.servers.map((v) => {
            const view = serverView(v, now);
            return h(
              'tr',
              { 'data-server': v.address, cls: `server tone-row-${view.state.tone}` },
              h('td', { cls: 'mono', 'data-label': 'server', text: v.address }),
              h('td', { cls: 'mono muted', 'data-label': 'name', text: v.name }),
              h(
                'td',
                { 'data-label': 'HAProxy' },
                badge(view.state, ' state'),
                view.changed ? h('span', { cls: 'muted small', text: ` ${view.changed}` }) : null,
              ),
              h('td', { cls: 'check', 'data-label': 'last check', text: view.check }),
              h('td', { 'data-label': 'Marathon' }, badge(view.marathon, ' marathon')),
            );
          });
          return h(
            'div',
            { cls: 'backend', 'data-backend': s.backend },
            h(
              'div',
              { cls: 'meta' },
              h('span', null, 'service port ', h('b', { text: String(s.servicePort) })),
              h('span', null, 'backend ', h('code', { text: s.backend })),
              h('span', { cls: 'muted', text: s.mode }),
              route ? h('span', null, 'route ', h('code', { text: route })) : null,
            ),
            s.traffic === null ? null : h('div', { cls: 'meta traffic' }, trafficCells(s.traffic, hs)),
            stackTable(
              'stack servers',
              ['Server', 'Name', 'HAProxy state', 'Last check', 'Marathon'],
              rows,
              'no servers',
            ),
            listed.notListed === 0
              ? null
              : h('p', {
                  cls: 'muted small not-listed',
                  text: `${listed.notListed} more server(s) not listed, ${listed.notListedDown === 0 ? 'all UP' : `${listed.notListedDown} of them not UP`} (see /status)`,
                }),
          );
        }),
      ),
    ),
    ...(note === null ? [] : [note]),
  ]);
}

export function renderLeftOut(leftOut: readonly Problem[], total: number): void {
  setCount('left-out-count', total);
  const allServed = 'Every app in the group is served.';
  if (leftOut.length === 0) return replace('left-out', [empty(allServed)]);
  const more = total - leftOut.length;
  replace('left-out', [
    ...(more > 0 ? [h('p', { cls: 'muted', text: `The first ${leftOut.length} of ${total} are listed.` })] : []),
    h(
      'div',
      { cls: 'card' },
      stackTable(
        'stack',
        ['App', 'Port index', 'Label', 'Why it is left out'],
        leftOut.map((p) =>
          h(
            'tr',
            null,
            h('td', { cls: 'mono', 'data-label': 'app', text: p.appId }),
            h('td', { 'data-label': 'port index', text: p.portIndex === null ? 'all' : String(p.portIndex) }),
            h('td', { cls: 'mono', 'data-label': 'label', text: p.label ?? '' }),
            h('td', { 'data-label': 'why', text: p.message }),
          ),
        ),
        allServed,
      ),
    ),
  ]);
}

function diffView(text: string): HTMLElement {
  return h(
    'pre',
    { cls: 'diff' },
    text.split('\n').map((line) => {
      const kind = diffLineKind(line);
      return h('span', kind ? { cls: kind, text: line } : { text: line });
    }),
  );
}

/** Applies; `openDiffs` keeps the diffs a person opened open across redraws. */
export function renderApplies(applies: readonly ApplyRecord[], openDiffs: Set<string>, now: number): void {
  setCount('applies-count', applies.length);
  if (applies.length === 0) return replace('applies', [empty('Nothing applied yet.')]);
  replace(
    'applies',
    applies.map((a) => {
      const what = a.reloaded ? toned('reload', 'warn') : toned('runtime API', 'info');
      const detail = a.reasons.length
        ? h(
            'ul',
            { cls: 'reasons' },
            a.reasons.map((r) => h('li', { text: r })),
          )
        : h('div', { cls: 'muted', text: `${a.runtimeOps} runtime operation(s), no reload` });
      const card = h(
        'article',
        { cls: 'card apply' },
        h(
          'div',
          { cls: 'row' },
          what,
          h('b', { text: when(a.at) }),
          h('span', { cls: 'muted', 'data-at': a.at, text: ago(a.at, now) }),
          a.durationMs === null ? null : h('span', { cls: 'muted', text: `took ${a.durationMs} ms` }),
          a.reloaded && a.runtimeOps ? h('span', { cls: 'muted', text: `${a.runtimeOps} runtime op(s)` }) : null,
        ),
        detail,
      );
      if (a.diff) {
        const lines = a.diff.split('\n');
        const plus = lines.filter((l) => diffLineKind(l) === 'add').length;
        const minus = lines.filter((l) => diffLineKind(l) === 'del').length;
        const d = h(
          'details',
          null,
          h('summary', null, 'config diff ', h('span', { cls: 'muted', text: `(+${plus} \u2212${minus})` })),
          diffView(a.diff),
        );
        d.open = openDiffs.has(a.at);
        d.addEventListener('toggle', () => (d.open ? openDiffs.add(a.at) : openDiffs.delete(a.at)));
        card.appendChild(d);
      } else {
        card.appendChild(h('div', { cls: 'muted', text: 'config text unchanged' }));
      }
      return card;
    }),
  );
}

export function renderFailures(failures: readonly FailureRecord[], now: number): void {
  setCount('failures-count', failures.length);
  if (failures.length === 0) return replace('failures', [empty('No failures.')]);
  replace(
    'failures',
    failures.map((f) =>
      h(
        'div',
        { cls: 'card row' },
        toned(f.kind, 'bad'),
        h('b', { text: when(f.at) }),
        h('span', { cls: 'muted', 'data-at': f.at, text: ago(f.at, now) }),
        h('span', { text: f.error }),
        f.retryInMs === null
          ? null
          : h('span', { cls: 'muted', text: `retry in ${(f.retryInMs / 1000).toFixed(1)} s` }),
      ),
    ),
  );
}
