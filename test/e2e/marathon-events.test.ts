import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { Observable, Subscription, filter, firstValueFrom, take, toArray } from 'rxjs';
import { basicAuth, dcosAuth } from '../../src/marathon/auth';
import { MarathonClient, MarathonLogger, type EventStreamSource } from '../../src/marathon/client';
import {
  StreamItem,
  UNREADABLE_EVENT,
  continuationLinesAsData,
  eventStream,
  parseEventData,
} from '../../src/marathon/events';
import { MarathonEvent, parseMarathonEvent } from '../../src/marathon/eventTypes';
import { MarathonError } from '../../src/marathon/http';
import { makeTestCerts } from '../support/certs';
import { listenOnLoopback } from '../support/listen';

// Real SSE over 127.0.0.1 against tiny servers made here.

interface SseServer {
  readonly url: string;
  /** Request URLs and Authorization headers, in order. */
  readonly requests: { url: string; auth: string | undefined }[];
  /** Resolves with the response of the n-th (0-based) stream request once its head is sent. */
  stream(n?: number): Promise<http.ServerResponse>;
  /** Resolves when the n-th stream connection closed. */
  closed(n?: number): Promise<void>;
  close(): Promise<void>;
}
const servers: SseServer[] = [];
const subs: Subscription[] = [];

type Route = (req: http.IncomingMessage, res: http.ServerResponse) => boolean; // true = handled

async function sseServer(opts: { route?: Route; tls?: { cert: string; key: string } } = {}): Promise<SseServer> {
  const requests: SseServer['requests'] = [];
  const streams: Promise<http.ServerResponse>[] = [];
  const closes: Promise<void>[] = [];
  const resolvers: ((r: http.ServerResponse) => void)[] = [];
  const closers: (() => void)[] = [];
  const slot = (n: number): void => {
    while (streams.length <= n) {
      streams.push(new Promise((r) => resolvers.push(r)));
      closes.push(new Promise((r) => closers.push(r)));
    }
  };
  let count = 0;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    requests.push({ url: req.url ?? '', auth: req.headers.authorization });
    if (opts.route?.(req, res)) return;
    const n = count++;
    slot(n);
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    res.on('close', () => closers[n]!());
    resolvers[n]!(res);
  };
  const server = opts.tls ? https.createServer(opts.tls, handler) : http.createServer(handler);
  const { port, close } = await listenOnLoopback(server);
  const s: SseServer = {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    stream: (n = 0) => (slot(n), streams[n]!),
    closed: (n = 0) => (slot(n), closes[n]!),
    close,
  };
  servers.push(s);
  return s;
}

function captureLogger(): MarathonLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (m) => lines.push(`warn ${m}`),
    info: (m) => lines.push(`info ${m}`),
    debug: (m) => lines.push(`debug ${m}`),
  };
}

/** Subscribes and records every item, plus the error or completion. */
function record(obs: Observable<StreamItem>) {
  const items: StreamItem[] = [];
  let resolveEnd!: (v: { error?: unknown; complete?: boolean }) => void;
  const end = new Promise<{ error?: unknown; complete?: boolean }>((r) => (resolveEnd = r));
  const waiters: { pred: () => boolean; resolve: () => void }[] = [];
  const check = (): void => {
    for (const w of waiters.splice(0)) {
      if (w.pred()) w.resolve();
      else waiters.push(w);
    }
  };
  const sub = obs.subscribe({
    next: (i) => (items.push(i), check()),
    error: (error: unknown) => resolveEnd({ error }),
    complete: () => resolveEnd({ complete: true }),
  });
  subs.push(sub);
  const events = (): MarathonEvent[] => items.flatMap((i) => (i.kind === 'event' ? [i.event] : []));
  const until = (pred: () => boolean): Promise<void> =>
    pred() ? Promise.resolve() : new Promise((resolve) => waiters.push({ pred, resolve }));
  return { items, events, end, sub, until };
}

const frame = (obj: unknown, name?: string): string =>
  `${name ? `event: ${name}\r\n` : ''}data: ${JSON.stringify(obj)}\r\n\r\n`;

const API_POST = {
  eventType: 'api_post_event',
  timestamp: '2024-05-01T10:00:00.000Z',
  clientIp: '10.0.0.1',
  uri: '/v2/apps/web',
  appDefinition: { id: '/web', env: { DB_PASSWORD: 'app-secret' } },
};
const STATUS = {
  eventType: 'status_update_event',
  timestamp: '2024-05-01T10:00:01.000Z',
  slaveId: 'agent-1',
  taskId: 'web.1234',
  taskStatus: 'TASK_RUNNING',
  message: '',
  appId: '/web',
  host: '10.0.1.5',
  ports: [31001],
  ipAddresses: [{ ipAddress: '172.17.0.2', protocol: 'IPv4' }],
  version: '2024-05-01T09:59:00.000Z',
};
const HEALTH = {
  eventType: 'health_status_changed_event',
  timestamp: '2024-05-01T10:00:02.000Z',
  appId: '/web',
  instanceId: 'web.marathon-1234',
  version: '2024-05-01T09:59:00.000Z',
  alive: true,
};
const DEPLOYMENT = { eventType: 'deployment_success', timestamp: '2024-05-01T10:00:03.000Z', id: 'd1' };

afterEach(async () => {
  subs.splice(0).forEach((s) => s.unsubscribe());
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('eventStream', () => {
  test('emits connected, heartbeats and typed events of the wanted types only', async () => {
    const m = await sseServer();
    const log = captureLogger();
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: log });
    const r = record(eventStream({ source: client }));
    const res = await m.stream();
    expect(m.requests[0]!.url).toBe(
      '/v2/events?plan-format=light&event_type=api_post_event&event_type=status_update_event&event_type=health_status_changed_event&event_type=event_stream_attached',
    );
    res.write(frame({ eventType: 'event_stream_attached', remoteAddress: '127.0.0.1' }, 'event_stream_attached')); // liveness only
    res.write(': keep-alive comment\r\n\r\n');
    res.write(frame(API_POST));
    res.write(frame(DEPLOYMENT, 'deployment_success')); // not asked for: dropped
    res.write(frame(STATUS, 'status_update_event')); // named SSE events are seen too
    res.write(frame(HEALTH));
    await r.until(() => r.events().length === 3);

    expect(r.items[0]).toEqual({ kind: 'connected', url: `${m.url}/v2/events?${m.requests[0]!.url.split('?')[1]}` });
    expect(r.items.some((i) => i.kind === 'heartbeat')).toBe(true);
    expect(r.events()).toEqual([
      {
        type: 'api_post_event',
        eventType: 'api_post_event',
        timestamp: API_POST.timestamp,
        uri: '/v2/apps/web',
        appId: '/web',
        appDefinition: API_POST.appDefinition, // kept: whether routing changes is decided against it
      },
      {
        type: 'status_update_event',
        eventType: 'status_update_event',
        appId: '/web',
        taskId: 'web.1234',
        taskStatus: 'TASK_RUNNING',
        timestamp: STATUS.timestamp,
        host: '10.0.1.5',
        version: STATUS.version,
        ports: [31001],
        ipAddresses: ['172.17.0.2'],
      },
      {
        type: 'health_status_changed_event',
        eventType: 'health_status_changed_event',
        appId: '/web',
        alive: true,
        timestamp: HEALTH.timestamp,
        instanceId: 'web.marathon-1234',
        version: HEALTH.version,
      },
    ]);
    expect(log.lines).toContain('debug ignoring event of type deployment_success');
  });

  // One named `error` dropped a healthy stream and lost its event; 20 000 named `open` were as many
  // reconnects and snapshots (found by an audit).
  test('events Marathon names `error` or `open` are events, not the connection failing or opening', async () => {
    const m = await sseServer();
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const r = record(eventStream({ source: client }));
    const res = await m.stream();
    res.write(frame(STATUS, 'error'));
    res.write(frame(STATUS, 'open'));
    res.write(frame(HEALTH, 'open'));
    await r.until(() => r.events().length === 3);
    expect(r.items.filter((i) => i.kind === 'connected')).toHaveLength(1);
    expect(r.events().map((e) => e.eventType)).toEqual([
      'status_update_event',
      'status_update_event',
      'health_status_changed_event',
    ]);
    expect(r.sub.closed).toBe(false); // still streaming
  });

  // eventsource closes itself before it says so, so its close() did not abort the request: each
  // retry left one connection open (found by an audit).
  test('an answer that is not an event stream, its body left open, is refused and its connection closed', async () => {
    let closed!: () => void;
    const connectionClosed = new Promise<void>((r) => (closed = r));
    const m = await sseServer({
      route: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.write('<html>');
        res.on('close', () => closed());
        return true;
      },
    });
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const r = record(eventStream({ source: client }));
    expect((await r.end).error).toBeInstanceOf(Error);
    await connectionClosed; // else the test times out
  });

  // Found by an audit: a proxy's gzip of the stream was fed to the parser, no event came through,
  // yet its bytes kept the stream "connected" (no Accept-Encoding was sent: any coding acceptable).
  test('the stream asks for identity; one answered compressed anyway is refused with why, its connection closed', async () => {
    let closed!: () => void;
    const connectionClosed = new Promise<void>((r) => (closed = r));
    let asked: string | undefined;
    const m = await sseServer({
      route: (req, res) => {
        asked = req.headers['accept-encoding'];
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Content-Encoding': 'gzip' });
        res.write(zlib.gzipSync(frame(API_POST, 'api_post_event')));
        res.on('close', () => closed());
        return true;
      },
    });
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const r = record(eventStream({ source: client }));
    const { error } = await r.end;
    expect(asked).toBe('identity');
    expect((error as Error).message).toMatch(/answered "gzip"-encoded, though identity was asked/);
    expect(r.items.filter((i) => i.kind === 'connected' || i.kind === 'heartbeat')).toEqual([]);
    await connectionClosed;
  });

  test('a comment alone is liveness: it yields a heartbeat', async () => {
    const m = await sseServer();
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const first2 = firstValueFrom(eventStream({ source: client }).pipe(take(2), toArray()));
    (await m.stream()).write(':\n\n');
    expect(await first2).toEqual([{ kind: 'connected', url: expect.any(String) }, { kind: 'heartbeat' }]);
  });

  // A fault test: 200 random bytes every 0.5 s kept the stream "connected" and routing stale until
  // the next resync, while /status and /healthz said all was well.
  test("Marathon's heartbeat (a bare CRLF) and its events are liveness; lines of other fields are not, and unparsable data is a trigger to read the apps", async () => {
    const m = await sseServer();
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const r = record(eventStream({ source: client }));
    const res = await m.stream();
    res.write('garbage line\r\nmore: of it\r\n\r\n');
    res.write('data: not json\r\n\r\n');
    res.write('event: x\r\ndata: {"nope": 1}\r\n\r\n');
    res.write(':\n\n'); // a marker: what came before is in by now
    await r.until(() => r.items.some((i) => i.kind === 'heartbeat'));
    expect(r.items.filter((i) => i.kind === 'heartbeat')).toHaveLength(1);
    res.write('\r\n'); // Jetty's heartbeat
    await r.until(() => r.items.filter((i) => i.kind === 'heartbeat').length === 2);
    res.write(frame({ eventType: 'event_stream_attached', remoteAddress: '127.0.0.1' }, 'event_stream_attached'));
    await r.until(() => r.items.filter((i) => i.kind === 'heartbeat').length === 3);
    // (A comment's heartbeat may come before the events read ahead of it.)
    expect(r.items.map((i) => (i.kind === 'event' ? i.event.eventType : i.kind)).sort()).toEqual([
      'connected',
      'heartbeat',
      'heartbeat',
      'heartbeat',
      UNREADABLE_EVENT,
      UNREADABLE_EVENT,
    ]);
  });

  test('bytes that are not UTF-8 text end the stream with why, its connection closed', async () => {
    let closed!: () => void;
    const connectionClosed = new Promise<void>((r) => (closed = r));
    const m = await sseServer({
      route: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(Buffer.from([0x0d, 0x0a, 0xff, 0xfe, 0x0a, 0x0a, 0x80, 0x3a, 0x0a]));
        res.on('close', () => closed());
        return true;
      },
    });
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const r = record(eventStream({ source: client }));
    const { error } = await r.end;
    expect((error as Error).message).toMatch(/sent bytes that are not UTF-8 text, which no event stream is/);
    expect(r.items.filter((i) => i.kind === 'heartbeat')).toEqual([]);
    await connectionClosed;
  });

  test('several JSON objects packed in one data field (\\r\\n separated) become several events', async () => {
    const m = await sseServer();
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const got = firstValueFrom(
      eventStream({
        source: client,
        eventTypes: ['api_post_event', 'status_update_event', 'health_status_changed_event', 'deployment_success'],
      }).pipe(
        filter((i) => i.kind === 'event'),
        take(5),
        toArray(),
      ),
    );
    const res = await m.stream();
    // Marathon's raw form: continuation lines without a "data:" prefix …
    res.write(`data: ${JSON.stringify(API_POST)}\r\n${JSON.stringify(STATUS)}\r\n\r\n`);
    // … and the same as several data lines, split over writes.
    const two = `data: ${JSON.stringify(HEALTH)}\r\ndata: ${JSON.stringify(DEPLOYMENT)}\r\n`;
    res.write(two.slice(0, 30));
    res.write(two.slice(30, two.indexOf('\r\n') + 2));
    res.write(two.slice(two.indexOf('\r\n') + 2) + '\r\n');
    res.write(`data: ${JSON.stringify(STATUS)}\r\n${JSON.stringify(HEALTH).slice(0, 1)}`);
    res.write(`${JSON.stringify(HEALTH).slice(1)}\r\n\r\n`);
    const events = (await got).map((i) => (i.kind === 'event' ? i.event.eventType : i.kind));
    expect(events).toEqual([
      'api_post_event',
      'status_update_event',
      'health_status_changed_event',
      'deployment_success',
      'status_update_event',
    ]);
  });

  test('malformed JSON triggers a read of the apps, with one warning per connection; so does a task event it cannot apply', async () => {
    const m = await sseServer();
    const log = captureLogger();
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: log });
    const r = record(eventStream({ source: client }));
    const res = await m.stream();
    res.write('data: {"eventType": "api_post_event", oops\r\n\r\n');
    res.write('data: not json either\r\n\r\n');
    res.write(frame({ eventType: 'status_update_event', appId: '/web' })); // lacks taskId/taskStatus
    res.write(frame(API_POST));
    await r.until(() => r.events().length === 4);
    // As in marathon-lb, an event of a wanted type is a trigger (a snapshot decides); it is never applied
    // alone. One that cannot be read says Marathon changed all the same (an audit: a stray brace lost a move).
    const unreadable = { type: 'other', eventType: UNREADABLE_EVENT, unusable: 'malformed JSON' };
    expect(r.events()).toEqual([
      unreadable,
      unreadable,
      {
        type: 'other',
        eventType: 'status_update_event',
        unusable: 'status_update_event: field "taskId" must be a string',
      },
      expect.objectContaining({ type: 'api_post_event' }),
    ]);
    const warnings = log.lines.filter((l) => l.startsWith('warn'));
    expect(warnings).toEqual([
      `warn 1 malformed JSON value(s) in an event from ${m.url}/v2/events?${m.requests[0]!.url.split('?')[1]}: reading the apps from Marathon instead (logged once per connection; then at debug level)`,
      expect.stringContaining(
        'is left to the next snapshot: status_update_event: field "taskId" must be a string (logged once',
      ),
    ]);
    expect(JSON.stringify(log.lines)).not.toContain('app-secret');
  });

  test('the server ending the stream makes the observable error (no silent stop, no own reconnect)', async () => {
    const m = await sseServer();
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    let opens = 0; // eventsource opens every connection, a reconnect too, through openStream
    const source: EventStreamSource = {
      currentUrl: () => client.currentUrl(),
      openStream: (url, signal) => (opens++, client.openStream(url, signal)),
      reportFailure: (base, reason) => client.reportFailure(base, reason),
      redact: (text) => client.redact(text),
      logger: client.logger,
    };
    const r = record(eventStream({ source }));
    const res = await m.stream();
    res.write('retry: 5\n\n'); // would make eventsource reconnect after 5 ms
    res.end();
    const { error } = await r.end;
    expect(error).toBeInstanceOf(MarathonError);
    expect((error as MarathonError).kind).toBe('stream');
    expect((error as MarathonError).message).toMatch(
      /^event stream http:\/\/127\.0\.0\.1:\d+\/v2\/events\?\S+ was closed by Marathon$/,
    );
    // Marker: a 5 ms timer armed after eventsource armed its 5 ms reconnect fires after it (Node runs
    // timers of equal delay in the order they were set), and a reconnect calls openStream at once.
    await new Promise((r2) => setTimeout(r2, 5));
    expect(opens).toBe(1);
    expect(m.requests).toHaveLength(1);
  });

  test('a connection cut mid-stream errors too', async () => {
    const m = await sseServer();
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const r = record(eventStream({ source: client }));
    const res = await m.stream();
    res.write(frame(API_POST));
    await r.until(() => r.events().length === 1);
    res.socket?.destroy();
    const { error } = await r.end;
    expect((error as MarathonError).kind).toBe('stream');
    expect((error as Error).message).toMatch(
      /^event stream http:\/\/127\.0\.0\.1:\d+\/v2\/events\?\S+ (broke: connection lost|was closed by Marathon)/,
    );
  });

  test('unsubscribing closes the connection (the server sees the socket close)', async () => {
    const m = await sseServer();
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const r = record(eventStream({ source: client }));
    await m.stream();
    await r.until(() => r.items.length > 0);
    r.sub.unsubscribe();
    await m.closed(); // would time the test out if the connection stayed open
  });

  test('a refused connection errors and moves the client on to the next URL', async () => {
    const spare = http.createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    const deadPort = (spare.address() as AddressInfo).port;
    await new Promise<void>((r) => spare.close(() => r()));
    const m = await sseServer();
    const dead = `http://127.0.0.1:${deadPort}`;
    const client = new MarathonClient({ urls: [dead, m.url], timeoutMs: 2000, logger: captureLogger() });
    const { error } = await record(eventStream({ source: client })).end;
    expect((error as Error).message).toMatch(
      /^event stream http:\/\/127\.0\.0\.1:\d+\/v2\/events\?\S+: connection refused \(ECONNREFUSED\)$/,
    );
    expect(client.currentUrl()).toBe(m.url);
    // the retry (a new subscription) goes to the next URL
    const again = record(eventStream({ source: client }));
    await m.stream();
    await again.until(() => again.items.length > 0);
    expect(again.items[0]!.kind).toBe('connected');
  });

  test('a 503 errors with the status', async () => {
    const m = await sseServer({
      route: (_req, res) => {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end('{"message":"no leader"}');
        return true;
      },
    });
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const { error } = await record(eventStream({ source: client })).end;
    expect((error as MarathonError).status).toBe(503);
    expect((error as Error).message).toContain('HTTP 503: no leader');
  });

  // A fault test: an old Marathon's 404 there said only "HTTP 404", again and again.
  test('a 404 says there is no event stream there, and what works without one', async () => {
    const m = await sseServer({
      route: (_req, res) => {
        res.writeHead(404, { 'Content-Type': 'text/html' });
        res.end('<html>Not Found</html>');
        return true;
      },
    });
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const { error } = await record(eventStream({ source: client })).end;
    expect((error as MarathonError).status).toBe(404);
    expect((error as Error).message).toContain(
      'HTTP 404 (no event stream there: not a Marathon, or one without /v2/events; without --sse the apps are polled every --resync-interval)',
    );
  });

  test('a server that never answers errors after timeoutMs', async () => {
    const m = await sseServer({ route: () => true });
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 200, logger: captureLogger() });
    const { error } = await record(eventStream({ source: client })).end;
    expect((error as Error).message).toMatch(/no response within 200 ms$/);
  });

  test('follows a 307 to the leader with basic auth re-sent (the leader is a --marathon URL); no secret in any log line or error', async () => {
    const password = 'sse-$ecret-pw';
    const auth = 'Basic ' + Buffer.from(`mlb:${password}`).toString('base64');
    const leader = await sseServer({
      route: (req, res) => {
        if (req.headers.authorization === auth) return false;
        res.writeHead(401).end();
        return true;
      },
    });
    const follower = await sseServer({
      route: (req, res) => {
        res.writeHead(307, { Location: `${leader.url}${req.url}` }).end();
        return true;
      },
    });
    const log = captureLogger();
    const client = new MarathonClient({
      // Credentials follow a redirect only to a --marathon origin (marathon-client.test.ts).
      urls: [follower.url, leader.url],
      auth: basicAuth({ user: 'mlb', password }),
      timeoutMs: 2000,
      logger: log,
    });
    const r = record(eventStream({ source: client }));
    const res = await leader.stream();
    res.write(frame(API_POST));
    await r.until(() => r.events().length === 1);
    expect(r.items[0]).toEqual({ kind: 'connected', url: expect.stringContaining(leader.url) });
    expect(follower.requests[0]!.auth).toBe(auth);
    expect(leader.requests[0]!.auth).toBe(auth);
    res.end();
    const { error } = await r.end;
    const all = JSON.stringify([log.lines, (error as Error).message, (error as Error).stack]);
    expect(all).not.toContain(password);
    expect(all).not.toContain(auth.slice(6));
  });

  test('DC/OS: a 401 on the stream logs in again once and connects with the new token', async () => {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    let logins = 0;
    let valid = '';
    const login = await sseServer({
      route: (_req, res) => {
        valid = `stream-token-${++logins}`;
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: valid }));
        return true;
      },
    });
    const m = await sseServer({
      route: (req, res) => {
        if (req.headers.authorization === `token=${valid}`) return false;
        res.writeHead(401).end();
        return true;
      },
    });
    const log = captureLogger();
    const auth = dcosAuth({
      credentials: {
        uid: 'mlb',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        loginEndpoint: `${login.url}/login`,
      },
      timeoutMs: 2000,
      logger: log,
    });
    await auth.header(); // logged in earlier (stream-token-1) …
    valid = 'rotated'; // … and that token is no longer accepted
    const client = new MarathonClient({ urls: [m.url], auth, timeoutMs: 2000, logger: log });
    const r = record(eventStream({ source: client }));
    await m.stream();
    await r.until(() => r.items.length > 0);
    expect(r.items[0]!.kind).toBe('connected');
    expect(logins).toBe(2);
    expect(m.requests.map((q) => q.auth)).toEqual(['token=stream-token-1', 'token=stream-token-2']);
    expect(JSON.stringify(log.lines)).not.toContain('stream-token-');
  });

  test('TLS with a private CA: refused by default, accepted with caCert', async () => {
    const certs = makeTestCerts();
    const m = await sseServer({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    const strict = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const { error } = await record(eventStream({ source: strict })).end;
    expect((error as Error).message).toContain('TLS certificate not trusted');

    const trusting = new MarathonClient({
      urls: [m.url],
      caCert: certs.caCert,
      timeoutMs: 2000,
      logger: captureLogger(),
    });
    const r = record(eventStream({ source: trusting }));
    (await m.stream()).write(frame(HEALTH));
    await r.until(() => r.events().length === 1);
  });
});

describe('event data helpers', () => {
  test('parseEventData: one document, several lines, blanks, garbage', () => {
    expect(parseEventData('')).toEqual({ values: [], malformed: 0 });
    expect(parseEventData('{"a":1}')).toEqual({ values: [{ a: 1 }], malformed: 0 });
    expect(parseEventData('{"a":1}\r\n{"b":2}\r\n\r\n')).toEqual({ values: [{ a: 1 }, { b: 2 }], malformed: 0 });
    expect(parseEventData('{\n "pretty": true\n}')).toEqual({ values: [{ pretty: true }], malformed: 0 });
    expect(parseEventData('{"a":1}\nnope')).toEqual({ values: [{ a: 1 }], malformed: 1 });
  });

  test('continuationLinesAsData only touches lines that start with {', () => {
    const fix = continuationLinesAsData();
    const out = [fix(Buffer.from('data: {"a":1}\r')), fix(Buffer.from('\n{"b":2}\r\nid: {x}\n'))];
    expect(Buffer.concat(out).toString()).toBe('data: {"a":1}\r\ndata: {"b":2}\r\nid: {x}\n');
  });

  test('parseMarathonEvent: errors name the field; unknown types are "other"', () => {
    expect(parseMarathonEvent([])).toEqual({ ok: false, error: 'event is not a JSON object' });
    expect(parseMarathonEvent({ eventType: 7 })).toEqual({ ok: false, error: 'event has no "eventType" string' });
    const unusable = (eventType: string, why: string): unknown => ({
      ok: true,
      value: { type: 'other', eventType, unusable: `${eventType}: ${why}` },
    });
    const health = 'health_status_changed_event';
    expect(parseMarathonEvent({ eventType: health, appId: '/a', alive: 'yes' })).toEqual(
      unusable(health, 'field "alive" must be a boolean'),
    );
    expect(parseMarathonEvent({ eventType: health, appId: '/a', alive: true, instanceId: 7 })).toEqual(
      unusable(health, 'field "instanceId" must be a string'),
    );
    // A task's ports and addresses are read by position: one bad element is not dropped (that would
    // shift the rest onto other service ports); the event is left to the snapshot.
    const status = { eventType: 'status_update_event', appId: '/a', taskId: 't', taskStatus: 'TASK_RUNNING' };
    for (const ports of [['31000', 31001], {}, [31000.5], [NaN], [Infinity]])
      expect(parseMarathonEvent({ ...status, ports })).toEqual(
        unusable(status.eventType, 'field "ports" must be a list of integers'),
      );
    expect(parseMarathonEvent({ ...status, ipAddresses: [null, { ipAddress: '10.0.0.2' }] })).toEqual(
      unusable(status.eventType, 'field "ipAddresses" must be a list of {"ipAddress": string}'),
    );
    expect(parseMarathonEvent({ ...status, host: 7 })).toEqual(
      unusable(status.eventType, 'field "host" must be a string'),
    );
    // null is an optional field left empty: absent, as before (the task keeps what it had).
    expect(parseMarathonEvent({ ...status, host: null, ports: null, ipAddresses: null })).toEqual({
      ok: true,
      value: { type: 'status_update_event', ...status },
    });
    expect(
      parseMarathonEvent({
        ...status,
        host: 'h',
        ports: [31000],
        ipAddresses: [{ ipAddress: '10.0.0.2', protocol: 'IPv4' }],
      }),
    ).toEqual({
      ok: true,
      value: { type: 'status_update_event', ...status, host: 'h', ports: [31000], ipAddresses: ['10.0.0.2'] },
    });
    expect(parseMarathonEvent({ eventType: 'event_stream_attached', remoteAddress: '1.2.3.4' })).toEqual({
      ok: true,
      value: { type: 'other', eventType: 'event_stream_attached' },
    });
  });
});
