/**
 * A big cluster's /status (tens of megabytes at 8 000 apps) is made a slice at a time: /healthz
 * asked while it is being made is answered first. Made in one go it held the event loop for
 * 1.5–2 s, and a liveness probe with a 1 s timeout failed while a dashboard tab was open (found by a
 * test at 8 000 apps). Real HTTP on loopback.
 */
import * as http from 'node:http';
import { startAdminServer, type AdminServer } from '../../src/admin/server';
import { memoryLogger } from '../support/controllerHarness';
import { waitFor } from '../support/wait';

/** A status of `services` services, each with a traffic history as the real one has. */
function bigStatus(services: number): unknown {
  return {
    generatedAt: '2026-12-05T00:00:00.000Z',
    services: Array.from({ length: services }, (_, i) => ({
      appId: `/app-${i}`,
      backend: `app-${i}_10000`,
      servers: [{ name: `10_0_0_1_${31000 + i}`, address: `10.0.0.1:${31000 + i}` }],
      traffic: {
        history: Array.from({ length: 30 }, (_, k) => ({ at: `t${k}`, currentSessions: k, requestsPerSecond: 1 })),
      },
    })),
  };
}

interface Answer {
  readonly status: number;
  readonly headersAt: number;
  readonly body: string;
}

let order = 0;
function get(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const headersAt = ++order;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headersAt, body: Buffer.concat(chunks).toString('utf8') }),
        );
      })
      .on('error', reject);
  });
}

describe('a big /status does not hold /healthz (real HTTP)', () => {
  let admin: AdminServer | undefined;
  afterEach(async () => {
    await admin?.close();
    admin = undefined;
  });

  async function serve(
    status: unknown,
    onStatus: () => void = () => undefined,
    prepare?: () => Promise<void>,
  ): Promise<string> {
    admin = await startAdminServer({
      port: 0,
      metrics: { contentType: 'text/plain', text: () => Promise.resolve('') },
      status: {
        status: () => {
          onStatus();
          return status;
        },
        version: () => 0,
        ...(prepare ? { prepare } : {}),
      },
      logger: memoryLogger([]),
    });
    return admin.url;
  }

  test('/healthz asked while a 20 000-service /status is being made is answered before it', async () => {
    const status = bigStatus(20_000);
    let asked: (() => void) | undefined;
    const statusAsked = new Promise<void>((r) => (asked = r));
    const url = await serve(status, () => asked?.());
    const big = get(`${url}/status`);
    await statusAsked; // the controller is making the body now
    const health = await get(`${url}/healthz`);
    const answer = await big;
    expect(health).toMatchObject({ status: 200, body: 'ok\n' });
    expect(health.headersAt).toBeLessThan(answer.headersAt);
    expect(answer.status).toBe(200);
    // Compact at this size, and the same data.
    expect(answer.body).toBe(`${JSON.stringify(status)}\n`);
  });

  test("what takes long to make (the applies' diffs) is prepared first, and /healthz is answered meanwhile", async () => {
    const order: string[] = [];
    let release: (() => void) | undefined;
    const url = await serve(
      bigStatus(2),
      () => order.push('status'),
      () =>
        new Promise<void>((resolve) => {
          order.push('prepare');
          release = () => {
            order.push('prepared');
            resolve();
          };
        }),
    );
    const answer = get(`${url}/status`);
    await waitFor('prepare asked', () => release !== undefined);
    expect((await get(`${url}/healthz`)).status).toBe(200);
    release!();
    expect((await answer).status).toBe(200);
    expect(order).toEqual(['prepare', 'prepared', 'status']);
  });

  test('a small /status stays indented for people reading it with curl', async () => {
    const status = bigStatus(2);
    const url = await serve(status);
    expect((await get(`${url}/status`)).body).toBe(`${JSON.stringify(status, null, 2)}\n`);
  });
});
