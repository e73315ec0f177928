import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { basicAuth, dcosAuth, parseDcosCredentials } from '../../src/marathon/auth';
import { parseBasicCredentials } from '../../src/marathon/credentials';
import { MarathonClient, MarathonLogger } from '../../src/marathon/client';
import { eventStream, type StreamItem } from '../../src/marathon/events';
import { MarathonError } from '../../src/marathon/http';
import { waitFor } from '../support/wait';
import { makeTestCerts } from '../support/certs';
import { selfSignedArgs } from '../../src/startup/certificate';
import { listenOnLoopback } from '../support/listen';

// Real HTTP(S) over 127.0.0.1 against tiny servers made here.

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
interface TestServer {
  readonly url: string;
  readonly hits: string[];
  close(): Promise<void>;
}
const servers: TestServer[] = [];

async function listen(server: http.Server | https.Server, scheme: string, hits: string[]): Promise<TestServer> {
  const { port, close } = await listenOnLoopback(server);
  const s: TestServer = { url: `${scheme}://127.0.0.1:${port}`, hits, close };
  servers.push(s);
  return s;
}

function serve(handler: Handler): Promise<TestServer> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  return listen(server, 'http', hits);
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A URL nothing listens on. Taken after the test's servers are up: the OS may hand its port out again. */
async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
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

async function rejection(p: Promise<unknown>): Promise<MarathonError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MarathonError);
    return e as MarathonError;
  }
  throw new Error('expected a rejection');
}

const APPS = { apps: [{ id: '/web', labels: { HAPROXY_GROUP: 'external' }, tasks: [] }] };

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('MarathonClient: REST', () => {
  test('getApps GETs /v2/apps?embed=apps.tasks and returns the parsed body', async () => {
    let accept: string | undefined;
    const m = await serve((req, res) => {
      accept = req.headers.accept;
      json(res, 200, APPS);
    });
    const client = new MarathonClient({ urls: [m.url + '/'], timeoutMs: 2000, logger: captureLogger() });
    await expect(client.getApps()).resolves.toEqual(APPS);
    expect(m.hits).toEqual(['GET /v2/apps?embed=apps.tasks']);
    expect(accept).toBe('application/json');
  });

  test('gzip-encoded answers are decoded', async () => {
    const m = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end(zlib.gzipSync(JSON.stringify(APPS)));
    });
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    await expect(client.getApps()).resolves.toEqual(APPS);
  });

  test('fails over from a dead URL (closed port) to the next one', async () => {
    const good = await serve((_req, res) => json(res, 200, APPS));
    const dead = await deadUrl();
    const log = captureLogger();
    const client = new MarathonClient({ urls: [dead, good.url], timeoutMs: 2000, logger: log });
    await expect(client.getApps()).resolves.toEqual(APPS);
    expect(client.currentUrl()).toBe(good.url);
    expect(log.lines.some((l) => l.includes(dead) && l.includes('ECONNREFUSED') && l.includes(good.url))).toBe(true);
  });

  test('fails over from a 503 to the next URL and then starts at the one that worked', async () => {
    const sick = await serve((_req, res) => json(res, 503, { message: 'not leading' }));
    const good = await serve((_req, res) => json(res, 200, APPS));
    const client = new MarathonClient({ urls: [sick.url, good.url], timeoutMs: 2000, logger: captureLogger() });
    await expect(client.getApps()).resolves.toEqual(APPS);
    await expect(client.getApps()).resolves.toEqual(APPS);
    expect(sick.hits).toHaveLength(1);
    expect(good.hits).toHaveLength(2);
  });

  test('while an event stream is open, reads start at its Marathon again after one failed over', async () => {
    // Found by an attack: one slow read of the stream's Marathon sent every later read to the other
    // one, for good, while the events that triggered them came from the first.
    const appsOf = (id: string) => ({ apps: [{ id, labels: { HAPROXY_GROUP: 'external' }, tasks: [] }] });
    let sickOnce = true;
    const a = await serve((req, res) => {
      if (req.url!.startsWith('/v2/events')) {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(': hello\n\n');
        return; // left open
      }
      if (sickOnce) {
        sickOnce = false;
        json(res, 503, { message: 'busy' });
      } else json(res, 200, appsOf('/from-a'));
    });
    const b = await serve((_req, res) => json(res, 200, appsOf('/from-b')));
    const client = new MarathonClient({ urls: [a.url, b.url], timeoutMs: 2000, logger: captureLogger() });
    const items: StreamItem[] = [];
    const stream = eventStream({ source: client }).subscribe({ next: (i) => items.push(i) });
    try {
      await waitFor('the stream open at the first URL', () => items.some((i) => i.kind === 'connected'));
      await expect(client.getApps()).resolves.toEqual(appsOf('/from-b')); // the first URL failed: the next one
      await expect(client.getApps()).resolves.toEqual(appsOf('/from-a')); // back at the stream's
    } finally {
      stream.unsubscribe();
    }
    // With no stream open, reads start at the URL that answered last.
    await expect(client.getApps()).resolves.toEqual(appsOf('/from-a'));
    expect(b.hits).toEqual(['GET /v2/apps?embed=apps.tasks']);
  });

  test('when every URL fails, the error names each URL and its reason', async () => {
    const sick = await serve((_req, res) => json(res, 502, { message: 'bad gateway' }));
    const dead = await deadUrl();
    const client = new MarathonClient({ urls: [dead, sick.url], timeoutMs: 2000, logger: captureLogger() });
    const err = await rejection(client.getApps());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toContain(`${dead} (connection refused (ECONNREFUSED))`);
    expect(err.message).toContain(`${sick.url} (HTTP 502: bad gateway)`);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  test('follows a 307 from a non-leader to the leader, re-sending basic auth when the leader is a --marathon URL, not otherwise', async () => {
    const expected = 'Basic ' + Buffer.from('mlb:s3cr3t-pw').toString('base64');
    const seen: (string | undefined)[] = [];
    const leader = await serve((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== expected) json(res, 401, { message: 'Unauthorized' });
      else json(res, 200, APPS);
    });
    const follower = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(307, { Location: `${leader.url}${req.url}` });
      res.end();
    });
    const client = (urls: string[], log = captureLogger()) =>
      new MarathonClient({
        urls,
        auth: basicAuth({ user: 'mlb', password: 's3cr3t-pw' }),
        timeoutMs: 2000,
        logger: log,
      });
    await expect(client([follower.url, leader.url]).getApps()).resolves.toEqual(APPS);
    expect(seen).toEqual([expected, expected]);
    expect(leader.hits).toEqual(['GET /v2/apps?embed=apps.tasks']);

    // Found by an audit: the credentials went to whatever origin a Location named (here another port).
    seen.length = 0;
    const log = captureLogger();
    const err = await rejection(client([follower.url], log).getApps());
    expect(err.message).toContain('HTTP 401');
    expect(seen).toEqual([expected, undefined]);
    expect(log.lines).toContain(
      `warn ${follower.url}/v2/apps?embed=apps.tasks redirects to ${leader.url}/v2/apps?embed=apps.tasks, which is not at a --marathon URL: following it without the Marathon credentials (if it is a Marathon, the leader, add ${leader.url} to --marathon)`,
    );
  });

  test('basic-auth secrets never reach log lines or errors, whatever fails', async () => {
    const password = 'Very$ecret-pw';
    const b64 = Buffer.from(`mlb:${password}`).toString('base64');
    const sick = await serve((req, res) => json(res, 503, { message: `echo ${req.headers.authorization ?? ''}` }));
    const dead = await deadUrl();
    const denied = await serve((req, res) => json(res, 403, { message: `no for ${req.headers.authorization ?? ''}` }));
    const log = captureLogger();
    const texts: string[] = [];
    for (const urls of [
      [dead, sick.url],
      [dead, sick.url, denied.url],
    ]) {
      const client = new MarathonClient({
        urls,
        auth: basicAuth({ user: 'mlb', password }),
        timeoutMs: 2000,
        logger: log,
      });
      const err = await rejection(client.getApps());
      texts.push(err.message, String(err.stack));
    }
    expect(texts[2]).toContain('HTTP 403 (the credentials lack permission): no for Basic ***');
    const all = JSON.stringify([texts, log.lines]);
    expect(all).not.toContain(password);
    expect(all).not.toContain(b64);
  });

  test('a redirect loop is cut after a few hops', async () => {
    const loop = await serve((req, res) => {
      res.writeHead(302, { Location: req.url ?? '/' });
      res.end();
    });
    const client = new MarathonClient({ urls: [loop.url], timeoutMs: 2000, logger: captureLogger() });
    const err = await rejection(client.getApps());
    expect(err.message).toMatch(/more than 3 redirects/);
    expect(loop.hits.length).toBe(4);
  });

  // An audit: the refusal of the leader a redirect named was told as the --marathon URL's, which answered.
  test('a failure after a redirect names the place redirected to', async () => {
    let leader = '';
    const follower = await serve((req, res) => {
      res.writeHead(307, { Location: `${leader}${req.url ?? '/'}` });
      res.end();
    });
    leader = await deadUrl();
    const client = new MarathonClient({ urls: [follower.url], timeoutMs: 2000, logger: captureLogger() });
    const err = await rejection(client.getApps());
    expect(err.message).toContain(
      `GET ${follower.url}/v2/apps?embed=apps.tasks failed: after a redirect to ${leader}/v2/apps?embed=apps.tasks: `,
    );
  });

  test('user:password in a Marathon URL becomes basic auth and never shows in messages', async () => {
    const m = await serve((req, res) => {
      if (req.headers.authorization === 'Basic ' + Buffer.from('u:pa55word').toString('base64')) json(res, 404, {});
      else json(res, 401, {});
    });
    const log = captureLogger();
    const client = new MarathonClient({ urls: [m.url.replace('//', '//u:pa55word@')], timeoutMs: 2000, logger: log });
    const err = await rejection(client.getApps());
    expect(err.kind).toBe('http');
    expect(err.message).toBe(`GET ${m.url}/v2/apps?embed=apps.tasks: HTTP 404`);
    expect(JSON.stringify([err.message, log.lines])).not.toContain('pa55word');
  });

  test('a 401 with basic auth is reported once as a credentials problem', async () => {
    const m = await serve((_req, res) => json(res, 401, { message: 'Invalid username or password.' }));
    const client = new MarathonClient({
      urls: [m.url],
      auth: basicAuth({ user: 'mlb', password: 'wrong-pw' }),
      timeoutMs: 2000,
      logger: captureLogger(),
    });
    const err = await rejection(client.getApps());
    expect(err.kind).toBe('auth');
    expect(err.message).toBe(
      `GET ${m.url}/v2/apps?embed=apps.tasks: HTTP 401 (check the Marathon credentials): Invalid username or password.`,
    );
    expect(m.hits).toHaveLength(1);
  });

  test('invalid JSON rejects with a clear one-line message naming the URL', async () => {
    const m = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>proxy error</html>');
    });
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const err = await rejection(client.getApps());
    expect(err.kind).toBe('invalid-json');
    expect(err.message).toBe(
      `GET ${m.url}/v2/apps?embed=apps.tasks: Marathon answered with invalid JSON (text/html, 24 bytes)`,
    );
  });

  /** A client of a Marathon whose /v2/apps answers `body` as JSON, and that Marathon's URL. */
  async function answering(body: string | Buffer): Promise<{ client: MarathonClient; url: string }> {
    const m = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
    });
    return { client: new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() }), url: m.url };
  }

  test.each(['{}', '{"apps": null}', '[]', '{"apps": {"id": "/a"}}'])(
    'valid JSON without an "apps" array (%s) is a failed read, retried like one',
    async (text) => {
      const { client, url } = await answering(text);
      const err = await rejection(client.getApps());
      expect(err.kind).toBe('invalid-json');
      expect(err.message).toBe(`GET ${url}/v2/apps?embed=apps.tasks: Marathon answered JSON without an "apps" array`);
    },
  );

  test("an answer after a UTF-8 byte-order mark is read, as marathon-lb's requests .json() reads it", async () => {
    const { client } = await answering(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(APPS))]),
    );
    expect(await client.getApps()).toEqual(APPS);
  });

  test.each(['{"apps": [1, 2]}', '{"apps": [null, [], "a"]}'])(
    'an "apps" array of no app objects (%s) is a failed read that says so, not a lost embed',
    async (text) => {
      const { client, url } = await answering(text);
      const err = await rejection(client.getApps());
      expect(err.kind).toBe('invalid-json');
      expect(err.message).toBe(
        `GET ${url}/v2/apps?embed=apps.tasks: Marathon answered an "apps" array of no app objects`,
      );
    },
  );

  test("https to a plain HTTP server fails with OpenSSL's reason, not its error stack", async () => {
    const m = await serve((_req, res) => json(res, 200, APPS));
    const client = new MarathonClient({
      urls: [m.url.replace('http://', 'https://')],
      timeoutMs: 2000,
      logger: captureLogger(),
    });
    const err = await rejection(client.getApps());
    expect(err.message).toMatch(
      /failed: TLS failed: wrong version number \(EPROTO\): is that URL https but the server plain HTTP\?$/,
    );
    expect(err.message).not.toMatch(/openssl|\.c:\d|\n/);
  });

  test('a server that never answers times out (and the next URL is tried)', async () => {
    const silent = await serve(() => undefined);
    const client = new MarathonClient({ urls: [silent.url], timeoutMs: 200, logger: captureLogger() });
    const err = await rejection(client.getApps());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe(`GET ${silent.url}/v2/apps?embed=apps.tasks failed: no response within 200 ms`);

    const good = await serve((_req, res) => json(res, 200, APPS));
    const two = new MarathonClient({ urls: [silent.url, good.url], timeoutMs: 200, logger: captureLogger() });
    await expect(two.getApps()).resolves.toEqual(APPS);
  });

  test('a body that stalls half way times out too', async () => {
    const m = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"apps": [');
    });
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 200, logger: captureLogger() });
    const err = await rejection(client.getApps());
    expect(err.message).toContain('response not complete within 200 ms');
  });

  test('bad URLs are refused at construction with a clear message', () => {
    expect(() => new MarathonClient({ urls: [], timeoutMs: 1, logger: captureLogger() })).toThrow(
      'no Marathon URL given',
    );
    expect(() => new MarathonClient({ urls: ['ftp://x'], timeoutMs: 1, logger: captureLogger() })).toThrow(
      'Marathon URL must start with http:// or https://, got ftp:',
    );
    expect(() => new MarathonClient({ urls: ['not a url'], timeoutMs: 1, logger: captureLogger() })).toThrow(
      'invalid Marathon URL "not a url"',
    );
  });
});

describe('MarathonClient: TLS', () => {
  const certs = makeTestCerts();
  const serveTls = (): Promise<TestServer> => {
    const hits: string[] = [];
    const server = https.createServer({ cert: certs.serverCert, key: certs.serverKey }, (req, res) => {
      hits.push(`${req.method} ${req.url}`);
      json(res, 200, APPS);
    });
    return listen(server, 'https', hits);
  };

  test('a certificate from a private CA is rejected by default', async () => {
    const m = await serveTls();
    const client = new MarathonClient({ urls: [m.url], timeoutMs: 2000, logger: captureLogger() });
    const err = await rejection(client.getApps());
    expect(err.message).toMatch(/TLS certificate not trusted \([A-Z_]+\): give the CA with --marathon-ca-cert/);
    expect(m.hits).toHaveLength(0);
  });

  // Found by an attack: a certificate of the right CA for another name was told to "give the CA".
  test('a trusted certificate for another name says so, not to give the CA', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-altname-'));
    try {
      const out = { keyOut: path.join(dir, 'key.pem'), certOut: path.join(dir, 'cert.pem') };
      const args = selfSignedArgs({ days: 2, subject: '/CN=other.example', ...out });
      execFileSync('openssl', [...args, '-addext', 'subjectAltName=DNS:other.example'], { stdio: 'pipe' });
      const cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
      const server = https.createServer({ cert, key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8') }, (_q, res) =>
        json(res, 200, APPS),
      );
      const m = await listen(server, 'https', []);
      const client = new MarathonClient({ urls: [m.url], caCert: cert, timeoutMs: 2000, logger: captureLogger() });
      const err = await rejection(client.getApps());
      expect(err.message).toMatch(
        /TLS certificate does not name the host asked \(ERR_TLS_CERT_ALTNAME_INVALID\): use a Marathon URL with a name the certificate holds/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('is accepted with caCert', async () => {
    const m = await serveTls();
    const client = new MarathonClient({
      urls: [m.url],
      caCert: certs.caCert,
      timeoutMs: 2000,
      logger: captureLogger(),
    });
    await expect(client.getApps()).resolves.toEqual(APPS);
  });

  test('is accepted with insecure', async () => {
    const m = await serveTls();
    const client = new MarathonClient({ urls: [m.url], insecure: true, timeoutMs: 2000, logger: captureLogger() });
    await expect(client.getApps()).resolves.toEqual(APPS);
  });

  test('a redirect from https to http is followed without the credentials, which never go in plain text', async () => {
    const seen: (string | undefined)[] = [];
    const plain = await serve((req, res) => {
      seen.push(req.headers.authorization);
      json(res, 401, { message: 'Unauthorized' });
    });
    const hits: string[] = [];
    const tls = await listen(
      https.createServer({ cert: certs.serverCert, key: certs.serverKey }, (req, res) => {
        hits.push(`${req.method} ${req.url}`);
        res.writeHead(307, { Location: `${plain.url}${req.url}` });
        res.end();
      }),
      'https',
      hits,
    );
    const log = captureLogger();
    const client = new MarathonClient({
      urls: [tls.url],
      caCert: certs.caCert,
      auth: basicAuth({ user: 'mlb', password: 's3cr3t-pw' }),
      timeoutMs: 2000,
      logger: log,
    });
    const err = await rejection(client.getApps());
    expect(err.message).toContain('HTTP 401');
    expect(seen).toEqual([undefined]);
    expect(log.lines).toContain(
      `warn ${tls.url}/v2/apps?embed=apps.tasks redirects to ${plain.url}/v2/apps?embed=apps.tasks, which is not TLS: following it without the Marathon credentials`,
    );
  });
});

describe('DC/OS service account', () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  /** A login endpoint that checks the RS256 JWT and hands out tok-1, tok-2, …; Marathon accepts the newest. */
  async function dcos(opts: { rejectAll?: boolean } = {}) {
    const state = { logins: 0, valid: '', jwts: [] as string[], errors: [] as string[] };
    const login = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        try {
          const { uid, token } = JSON.parse(body) as { uid: string; token: string };
          const [h, p, s] = token.split('.') as [string, string, string];
          const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string };
          const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { uid: string; exp: number };
          const ok = crypto.verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'));
          if (
            !ok ||
            header.alg !== 'RS256' ||
            uid !== 'mlb-principal' ||
            claims.uid !== uid ||
            claims.exp * 1000 < Date.now()
          ) {
            state.errors.push('bad jwt');
            json(res, 401, { title: 'Invalid token' });
            return;
          }
          state.jwts.push(token);
          state.logins++;
          state.valid = `tok-${state.logins}-abcdef`;
          json(res, 200, { token: state.valid });
        } catch (e) {
          state.errors.push(String(e));
          json(res, 400, {});
        }
      });
    });
    const marathon = await serve((req, res) => {
      if (!opts.rejectAll && req.headers.authorization === `token=${state.valid}`) json(res, 200, APPS);
      else json(res, 401, { message: 'Unauthorized' });
    });
    const creds = JSON.stringify({
      uid: 'mlb-principal',
      private_key: privatePem,
      login_endpoint: `${login.url}/acs/api/v1/auth/login`,
    });
    return { state, login, marathon, creds };
  }

  test('logs in lazily, reuses the token, logs in again once after a 401', async () => {
    const { state, marathon, creds } = await dcos();
    const parsed = parseDcosCredentials(creds);
    if (!parsed.ok) throw new Error(parsed.error);
    const log = captureLogger();
    const auth = dcosAuth({ credentials: parsed.value, timeoutMs: 2000, logger: log });
    const client = new MarathonClient({ urls: [marathon.url], auth, timeoutMs: 2000, logger: log });
    expect(state.logins).toBe(0);
    await expect(client.getApps()).resolves.toEqual(APPS);
    await expect(client.getApps()).resolves.toEqual(APPS);
    expect(state.logins).toBe(1);

    state.valid = 'expired-elsewhere'; // the token is no longer accepted
    await expect(client.getApps()).resolves.toEqual(APPS);
    expect(state.logins).toBe(2);
    expect(state.errors).toEqual([]);
    expect(marathon.hits).toHaveLength(4);
    expect(log.lines).toContain(
      `info ${marathon.url}/v2/apps?embed=apps.tasks answered HTTP 401; logged in again, retrying once`,
    );

    const secrets = [privatePem, ...state.jwts, 'tok-1-abcdef', 'tok-2-abcdef', 'MII'];
    const text = JSON.stringify(log.lines);
    for (const s of secrets) expect(text).not.toContain(s);
  });

  test('a Marathon that keeps answering 401 gets one renewal, then a clear auth error without secrets', async () => {
    const { state, marathon, creds } = await dcos({ rejectAll: true });
    const parsed = parseDcosCredentials(creds);
    if (!parsed.ok) throw new Error(parsed.error);
    const log = captureLogger();
    const client = new MarathonClient({
      urls: [marathon.url],
      auth: dcosAuth({ credentials: parsed.value, timeoutMs: 2000, logger: log }),
      timeoutMs: 2000,
      logger: log,
    });
    const err = await rejection(client.getApps());
    expect(err.kind).toBe('auth');
    expect(err.message).toBe(
      `GET ${marathon.url}/v2/apps?embed=apps.tasks: HTTP 401 (check the Marathon credentials): Unauthorized`,
    );
    expect(state.logins).toBe(2);
    expect(marathon.hits).toHaveLength(2);
    const text = JSON.stringify([err.message, err.stack, log.lines]);
    for (const s of [privatePem, ...state.jwts, 'tok-1-abcdef', 'tok-2-abcdef']) expect(text).not.toContain(s);
  });

  test('a refused login is an auth error naming the account and endpoint, not the key', async () => {
    const login = await serve((_req, res) => json(res, 401, { title: 'Invalid token' }));
    const marathon = await serve((_req, res) => json(res, 200, APPS));
    const other = crypto
      .generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const log = captureLogger();
    const client = new MarathonClient({
      urls: [marathon.url],
      auth: dcosAuth({
        credentials: { uid: 'mlb-principal', privateKey: other, loginEndpoint: `${login.url}/login` },
        timeoutMs: 2000,
        logger: log,
      }),
      timeoutMs: 2000,
      logger: log,
    });
    const err = await rejection(client.getApps());
    expect(err.kind).toBe('auth');
    expect(err.message).toBe(`DC/OS login for "mlb-principal" at ${login.url}/login was refused: HTTP 401`);
    expect(marathon.hits).toHaveLength(0);
    expect(JSON.stringify([err.message, log.lines])).not.toContain('PRIVATE KEY');
  });

  test('credential parsing gives one clear line per mistake', () => {
    expect(parseDcosCredentials('{')).toEqual({
      ok: false,
      error: '--dcos-auth-credentials: not valid JSON (expected {"uid","private_key","login_endpoint"})',
    });
    expect(parseDcosCredentials('{"uid":"a","private_key":"x","login_endpoint":"http://h"}')).toEqual({
      ok: false,
      error: '--dcos-auth-credentials: "private_key" is not a PEM private key',
    });
    expect(parseDcosCredentials(JSON.stringify({ uid: 'a', private_key: privatePem }))).toEqual({
      ok: false,
      error: '--dcos-auth-credentials: "login_endpoint" must be a non-empty string',
    });
    expect(parseBasicCredentials('user:pa:ss\nignored', 'creds.txt')).toEqual({
      ok: true,
      value: { user: 'user', password: 'pa:ss' },
    });
    expect(parseBasicCredentials('nocolon', '--auth-credentials')).toEqual({
      ok: false,
      error: '--auth-credentials: expected credentials as user:pass',
    });
  });
});
