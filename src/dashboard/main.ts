/*
 * The dashboard's entry: polls `./status` every 2 s and redraws. It carries no data and no secret:
 * when the API needs a token, the page reads it from `#token=…` (never sent to the server as part of
 * the URL) or its form, keeps it in memory only, and sends it as a bearer header.
 */
import type { AdminStatus } from '../admin/statusTypes';
import { byId, h, shown } from './dom';
import { ago } from './format';
import { renderApplies, renderFailures, renderLeftOut, renderMarathon, renderServices, renderTraffic } from './render';
import { staleBanner } from './view';

const REFRESH_MS = 2000;
const openDiffs = new Set<string>();
let appliesKey: string | null = null;
let lastStatus: AdminStatus | null = null;
/** Browser time of the last good read, to age `lastStatus` while the controller is unreachable. */
let fetchedAt = 0;

let adminToken: string | null = null;
const TOKEN_IN_HASH = /(?:^#|&)token=([^&]*)/g;

/**
 * `#token=…` as written (a base64 token's `+` is not a space: URLSearchParams read it so, and the
 * token never matched; found by an audit; percent-escapes are decoded), taken out of the address into
 * memory: left there it stayed in the address bar, the history and screen shares.
 */
function takeTokenFromAddress(): void {
  // Every one goes, the last is taken (as a form's last field of a name wins).
  const found = [...location.hash.matchAll(TOKEN_IN_HASH)];
  const last = found.at(-1);
  if (last === undefined) return;
  try {
    adminToken = decodeURIComponent(last[1]!);
  } catch {
    adminToken = last[1]!;
  }
  const rest = location.hash
    .slice(1)
    .split('&')
    .filter((part) => part !== '' && !part.startsWith('token='))
    .join('&');
  history.replaceState(null, '', `${location.pathname}${location.search}${rest === '' ? '' : `#${rest}`}`);
}

function renderSummary(s: AdminStatus, now: number): void {
  const last = byId('last-applied');
  last.textContent = ago(s.lastAppliedAt, now);
  last.title = s.lastAppliedAt === null ? '' : new Date(s.lastAppliedAt).toLocaleString();
  byId('pending').replaceChildren(
    s.stale
      ? h('span', { cls: 'badge tone-bad', text: 'stale' })
      : s.pendingChange
        ? h('span', { cls: 'badge tone-warn', text: 'change pending' })
        : h('span', { cls: 'badge tone-ok', text: 'up to date' }),
  );
  const banner = staleBanner(s);
  const stale = byId('stale');
  stale.hidden = banner === null;
  stale.textContent = shown(banner?.text ?? '');
  const err = byId('last-error');
  err.hidden = s.lastError === null;
  err.textContent = s.lastError === null ? '' : `Last error: ${shown(s.lastError)}`;
  const servers = s.services.reduce((n, v) => n + v.servers.length, 0);
  byId('totals').textContent = `${s.services.length} service port(s), ${servers} server(s), ${s.leftOutTotal} left out`;
  for (const e of document.querySelectorAll<HTMLElement>('[data-at]'))
    e.textContent = ago(e.getAttribute('data-at'), now);
}

function render(s: AdminStatus): void {
  // Times are shown relative to the controller's clock, so a skewed browser clock does not lie.
  const now = Date.parse(s.generatedAt);
  renderMarathon(s, now);
  renderTraffic(s.haproxy, now);
  renderServices(s.services, s.haproxy, now, servicesFilter());
  renderLeftOut(s.leftOut, s.leftOutTotal);
  renderFailures(s.recentFailures, now);
  const key = JSON.stringify(s.recentApplies.map((a) => a.at));
  if (key !== appliesKey) {
    renderApplies(s.recentApplies, openDiffs, now);
    appliesKey = key;
  }
  renderSummary(s, now);
  byId('content').hidden = false;
}

function connection(text: string, bad: boolean): void {
  const c = byId('connection');
  c.textContent = text;
  c.className = `badge tone-${bad ? 'bad' : 'ok'}`;
}

function askToken(rejected: boolean): void {
  byId('auth').hidden = false;
  byId('auth-message').textContent = rejected
    ? 'The token was rejected. Enter the --admin-token value:'
    : 'This API needs the --admin-token value:';
  connection('needs token', true);
}

let timer: ReturnType<typeof setTimeout> | undefined;
let inFlight = false;

function schedule(ms: number): void {
  clearTimeout(timer);
  timer = setTimeout(() => void refresh(), ms);
}

async function refresh(): Promise<void> {
  if (inFlight) return;
  inFlight = true;
  const startedAt = Date.now();
  const headers: Record<string, string> = { Accept: 'application/json' };
  const t = adminToken;
  if (t !== null) headers['Authorization'] = `Bearer ${t}`;
  try {
    const res = await fetch('./status', { headers, cache: 'no-store', credentials: 'omit' });
    if (res.status === 401) {
      askToken(t !== null);
    } else {
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const s = (await res.json()) as AdminStatus;
      byId('auth').hidden = true;
      lastStatus = s;
      fetchedAt = Date.now();
      connection('live', false);
      render(s);
    }
  } catch (e) {
    connection(`cannot reach the controller (${e instanceof Error ? e.message : String(e)})`, true);
    // What was last seen, aged by the time since it was read.
    if (lastStatus !== null) renderSummary(lastStatus, Date.parse(lastStatus.generatedAt) + (Date.now() - fetchedAt));
  } finally {
    inFlight = false;
    // A big cluster's /status takes the controller a while to make: a tab asks again only after five
    // times as long as that took, so it never keeps the controller busy more than a sixth of the time.
    schedule(Math.max(REFRESH_MS, 5 * (Date.now() - startedAt)));
  }
}
const servicesFilter = (): string => byId<HTMLInputElement>('services-filter').value;
byId('services-filter').addEventListener('input', () => {
  if (lastStatus !== null)
    renderServices(lastStatus.services, lastStatus.haproxy, Date.parse(lastStatus.generatedAt), servicesFilter());
});
byId('auth-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = byId<HTMLInputElement>('auth-token');
  const value = input.value.trim();
  if (!value) return;
  adminToken = value;
  input.value = '';
  schedule(0);
});
window.addEventListener('hashchange', () => {
  takeTokenFromAddress();
  schedule(0);
});
takeTokenFromAddress();
void refresh();
