import { createHash } from 'node:crypto';

/**
 * The admin dashboard: one self-contained page (no external assets) that polls `./status` every
 * 2 s. It carries no data and no secret: when the API needs a token, the page reads it from
 * `#token=…` (never sent to the server as part of the URL) and sends it as a bearer header.
 * Everything from Marathon is inserted as text, never as HTML.
 */

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --fg: #1d2330; --muted: #5f6b7a; --line: #dfe3e8;
  --ok: #1a7f37; --ok-bg: #dcf5e3; --warn: #9a6700; --warn-bg: #fff3c4; --bad: #b42318; --bad-bg: #fde4e1;
  --info: #0b5cad; --info-bg: #dceafd; --add: #1a7f37; --del: #b42318; }
@media (prefers-color-scheme: dark) { :root { --bg: #12151a; --card: #1b2028; --fg: #e6e9ee; --muted: #97a1ae; --line: #2c333d;
  --ok: #56d364; --ok-bg: #143d22; --warn: #e3b341; --warn-bg: #3d2f0a; --bad: #ff7b72; --bad-bg: #4a1512;
  --info: #79b8ff; --info-bg: #10304f; --add: #56d364; --del: #ff7b72; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 12px 24px; padding: 14px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 18px; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; }
section { margin-top: 20px; }
h2 { font-size: 15px; margin: 0 0 8px; }
h2 .count { color: var(--muted); font-weight: normal; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 10px; }
.muted { color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
.stat { color: var(--muted); }
.stat b { color: var(--fg); font-weight: 600; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.up { color: var(--ok); background: var(--ok-bg); }
.draining { color: var(--warn); background: var(--warn-bg); }
.reload { color: var(--warn); background: var(--warn-bg); }
.runtime { color: var(--info); background: var(--info-bg); }
.failed { color: var(--bad); background: var(--bad-bg); }
.banner { border-radius: 8px; padding: 10px 14px; margin-top: 16px; }
.banner.error { color: var(--bad); background: var(--bad-bg); }
.banner.auth { background: var(--info-bg); }
.app h3 { margin: 0; font-size: 15px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.backend { border-top: 1px solid var(--line); margin-top: 10px; padding-top: 8px; }
.backend .meta { display: flex; flex-wrap: wrap; gap: 4px 14px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
tr:last-child td { border-bottom: 0; }
ul.reasons { margin: 4px 0 0; padding-left: 18px; }
details { margin-top: 6px; }
summary { cursor: pointer; color: var(--info); }
pre.diff { margin: 6px 0 0; padding: 8px; max-height: 420px; overflow: auto; background: var(--bg); border-radius: 6px; font-size: 12px; }
pre.diff span { display: block; white-space: pre; }
pre.diff .add { color: var(--add); }
pre.diff .del { color: var(--del); }
pre.diff .hunk { color: var(--info); }
.row { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 12px; }
input { font: inherit; padding: 4px 8px; min-width: 280px; }
button { font: inherit; padding: 4px 12px; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var REFRESH_MS = 2000;
  var openDiffs = new Set();
  var lastKey = null;
  var lastStatus = null;

  function $(id) { return document.getElementById(id); }
  function h(tag, props) {
    var e = document.createElement(tag);
    if (props) for (var k in props) {
      if (k === 'text') e.textContent = props[k];
      else if (k === 'cls') e.className = props[k];
      else e.setAttribute(k, props[k]);
    }
    (function add(list) {
      list.forEach(function (c) {
        if (c === null || c === undefined || c === false) return;
        if (Array.isArray(c)) add(c);
        else e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
      });
    })(Array.prototype.slice.call(arguments, 2));
    return e;
  }
  function token() { return new URLSearchParams(location.hash.slice(1)).get('token'); }
  function ago(iso) {
    if (!iso) return 'never';
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min ago';
  }
  function when(iso) { return new Date(iso).toLocaleString(); }
  function replace(id, nodes) {
    var box = $(id);
    box.replaceChildren.apply(box, nodes);
  }
  function setCount(id, n) { $(id).textContent = '(' + n + ')'; }

  function renderSummary(s) {
    var last = $('last-applied');
    last.textContent = ago(s.lastAppliedAt);
    last.title = s.lastAppliedAt ? when(s.lastAppliedAt) : '';
    $('pending').replaceChildren(s.stale ? h('span', { cls: 'badge failed', text: 'stale: oldest unapplied change ' + ago(s.unappliedChangeSince) })
      : s.pendingChange ? h('span', { cls: 'badge reload', text: 'change pending' }) : h('span', { cls: 'badge up', text: 'up to date' }));
    var err = $('last-error');
    err.hidden = !s.lastError;
    err.textContent = s.lastError ? 'Last error: ' + s.lastError : '';
    var servers = 0;
    s.services.forEach(function (v) { servers += v.servers.length; });
    $('totals').textContent = s.services.length + ' service port(s), ' + servers + ' server(s), ' + s.leftOut.length + ' left out';
    Array.prototype.forEach.call(document.querySelectorAll('[data-at]'), function (e) { e.textContent = ago(e.getAttribute('data-at')); });
  }

  function renderServices(services) {
    setCount('services-count', services.length);
    if (services.length === 0) return replace('services', [h('p', { cls: 'empty', text: 'No services applied yet.' })]);
    var byApp = new Map();
    services.forEach(function (s) { if (!byApp.has(s.appId)) byApp.set(s.appId, []); byApp.get(s.appId).push(s); });
    var cards = [];
    byApp.forEach(function (list, appId) {
      var card = h('article', { cls: 'card app', 'data-app': appId }, h('h3', { text: appId }));
      list.forEach(function (s) {
        var route = s.hostname ? s.hostname + (s.path || '') : (s.path || '');
        var rows = s.servers.map(function (v) {
          return h('tr', null, h('td', { cls: 'mono', text: v.address }), h('td', { cls: 'mono muted', text: v.name }),
            h('td', null, h('span', { cls: 'badge ' + (v.draining ? 'draining' : 'up'), text: v.draining ? 'draining' : 'up' })));
        });
        card.appendChild(h('div', { cls: 'backend' },
          h('div', { cls: 'meta' },
            h('span', null, 'service port ', h('b', { text: String(s.servicePort) })),
            h('span', null, 'backend ', h('code', { text: s.backend })),
            h('span', { cls: 'muted', text: s.mode }),
            route ? h('span', null, 'route ', h('code', { text: route })) : null),
          h('table', null, h('thead', null, h('tr', null, h('th', { text: 'Server' }), h('th', { text: 'Name' }), h('th', { text: 'State' }))),
            h('tbody', null, rows.length ? rows : [h('tr', null, h('td', { colspan: '3', cls: 'empty', text: 'no servers' }))]))));
      });
      cards.push(card);
    });
    replace('services', cards);
  }

  function renderLeftOut(leftOut) {
    setCount('left-out-count', leftOut.length);
    if (leftOut.length === 0) return replace('left-out', [h('p', { cls: 'empty', text: 'Every app in the group is served.' })]);
    var rows = leftOut.map(function (p) {
      return h('tr', null, h('td', { cls: 'mono', text: p.appId }), h('td', { text: p.portIndex === null ? 'all' : String(p.portIndex) }),
        h('td', { cls: 'mono', text: p.label || '' }), h('td', { text: p.message }));
    });
    replace('left-out', [h('div', { cls: 'card' }, h('table', null,
      h('thead', null, h('tr', null, h('th', { text: 'App' }), h('th', { text: 'Port index' }), h('th', { text: 'Label' }), h('th', { text: 'Why it is left out' }))),
      h('tbody', null, rows)))]);
  }

  function diffView(text) {
    var pre = h('pre', { cls: 'diff' });
    text.split('\\n').forEach(function (line) {
      var cls = /^\\+(?!\\+\\+ )/.test(line) ? 'add' : /^-(?!-- )/.test(line) ? 'del' : /^@@/.test(line) ? 'hunk' : '';
      pre.appendChild(h('span', cls ? { cls: cls, text: line } : { text: line }));
    });
    return pre;
  }

  function renderApplies(applies) {
    setCount('applies-count', applies.length);
    if (applies.length === 0) return replace('applies', [h('p', { cls: 'empty', text: 'Nothing applied yet.' })]);
    replace('applies', applies.map(function (a) {
      var what = a.reloaded ? h('span', { cls: 'badge reload', text: 'reload' }) : h('span', { cls: 'badge runtime', text: 'runtime API' });
      var detail = a.reasons.length
        ? h('ul', { cls: 'reasons' }, a.reasons.map(function (r) { return h('li', { text: r }); }))
        : h('div', { cls: 'muted', text: a.runtimeOps + ' runtime operation(s), no reload' });
      var card = h('article', { cls: 'card apply' },
        h('div', { cls: 'row' }, what, h('b', { text: when(a.at) }), h('span', { cls: 'muted', 'data-at': a.at, text: ago(a.at) }),
          a.durationMs === null ? null : h('span', { cls: 'muted', text: 'took ' + a.durationMs + ' ms' }),
          a.reloaded && a.runtimeOps ? h('span', { cls: 'muted', text: a.runtimeOps + ' runtime op(s)' }) : null),
        detail);
      if (a.diff) {
        var lines = a.diff.split('\\n');
        var plus = lines.filter(function (l) { return /^\\+(?!\\+\\+ )/.test(l); }).length;
        var minus = lines.filter(function (l) { return /^-(?!-- )/.test(l); }).length;
        var d = h('details', null, h('summary', null, 'config diff ', h('span', { cls: 'muted', text: '(+' + plus + ' \u2212' + minus + ')' })), diffView(a.diff));
        d.open = openDiffs.has(a.at);
        d.addEventListener('toggle', function () { if (d.open) openDiffs.add(a.at); else openDiffs.delete(a.at); });
        card.appendChild(d);
      } else {
        card.appendChild(h('div', { cls: 'muted', text: 'config text unchanged' }));
      }
      return card;
    }));
  }

  function renderFailures(failures) {
    setCount('failures-count', failures.length);
    if (failures.length === 0) return replace('failures', [h('p', { cls: 'empty', text: 'No failures.' })]);
    replace('failures', failures.map(function (f) {
      return h('div', { cls: 'card row' }, h('span', { cls: 'badge failed', text: f.kind }), h('b', { text: when(f.at) }),
        h('span', { cls: 'muted', 'data-at': f.at, text: ago(f.at) }), h('span', { text: f.error }),
        f.retryInMs === null ? null : h('span', { cls: 'muted', text: 'retry in ' + (f.retryInMs / 1000).toFixed(1) + ' s' }));
    }));
  }

  function render(s) {
    var key = JSON.stringify([s.services, s.leftOut, s.recentApplies, s.recentFailures]);
    if (key !== lastKey) {
      renderServices(s.services);
      renderLeftOut(s.leftOut);
      renderApplies(s.recentApplies);
      renderFailures(s.recentFailures);
      lastKey = key;
    }
    renderSummary(s);
    $('content').hidden = false;
  }

  function connection(text, bad) {
    var c = $('connection');
    c.textContent = text;
    c.className = 'badge ' + (bad ? 'failed' : 'up');
  }

  function askToken(rejected) {
    $('auth').hidden = false;
    $('auth-message').textContent = rejected ? 'The token was rejected. Enter the --admin-token value:' : 'This API needs the --admin-token value:';
    connection('needs token', true);
  }

  var timer = null;
  var inFlight = false;
  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(refresh, ms);
  }

  function refresh() {
    if (inFlight) return;
    inFlight = true;
    var headers = { Accept: 'application/json' };
    var t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    fetch('./status', { headers: headers, cache: 'no-store', credentials: 'omit' }).then(function (res) {
      if (res.status === 401) { askToken(Boolean(t)); return null; }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    }).then(function (s) {
      if (s === null) return;
      $('auth').hidden = true;
      lastStatus = s;
      connection('live', false);
      render(s);
    }).catch(function (e) {
      connection('cannot reach the controller (' + e.message + ')', true);
      if (lastStatus) renderSummary(lastStatus);
    }).then(function () {
      inFlight = false;
      schedule(REFRESH_MS);
    });
  }

  $('auth-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var value = $('auth-token').value.trim();
    if (!value) return;
    location.hash = 'token=' + encodeURIComponent(value);
    $('auth-token').value = '';
  });
  window.addEventListener('hashchange', function () { schedule(0); });
  refresh();
})();
`;

const BODY = `
<header>
  <h1>marathon-lb</h1>
  <span class="stat">last apply <b id="last-applied">…</b></span>
  <span id="pending"></span>
  <span class="stat" id="totals"></span>
  <span id="connection" class="badge">connecting…</span>
</header>
<main>
  <div id="auth" class="banner auth" hidden>
    <form id="auth-form" class="row"><span id="auth-message"></span>
      <input id="auth-token" type="password" autocomplete="off" aria-label="admin token"><button type="submit">Open</button></form>
  </div>
  <div id="last-error" class="banner error" role="alert" hidden></div>
  <div id="content" hidden>
    <section><h2>Services <span class="count" id="services-count"></span></h2><div id="services"></div></section>
    <section><h2>Left out <span class="count" id="left-out-count"></span></h2><div id="left-out"></div></section>
    <section><h2>Recent applies <span class="count" id="applies-count"></span></h2><div id="applies"></div></section>
    <section><h2>Recent failures <span class="count" id="failures-count"></span></h2><div id="failures"></div></section>
  </div>
</main>
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The page served at `GET /`. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>marathon-lb</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

/** Content-Security-Policy for the page: only its own inline script and style, fetches to itself. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
