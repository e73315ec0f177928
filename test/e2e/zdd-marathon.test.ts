import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Simulator } from '../../src/simulator';
import { parseZddArgs } from '../../src/zdd/args';
import { exitStatus } from '../../src/zdd/cli';
import { liveIo, zddMarathonClient } from '../../src/zdd/liveIo';
import { runZdd } from '../../src/zdd/run';
import { freePort } from '../support/ports';
import { tempDir } from '../support/render';

/**
 * zdd's Marathon side over real HTTP against the simulator, through the project's Marathon client:
 * DC/OS service-account login (the simulator answers as DC/OS does, token and dcos-acs-auth-cookie),
 * basic auth, failover from a dead URL, every write zdd makes, and Marathon's refusals as zdd's exit statuses.
 */
const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const APP = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'zdd', 'shop.json'), 'utf8')) as Record<
  string,
  unknown
>;

describe('zdd against the simulated Marathon (auth, failover, writes)', () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  let sim: Simulator;
  let dir: string;
  let dead: number;

  beforeAll(async () => {
    dir = tempDir('zdd-marathon-');
    dead = await freePort();
    sim = await Simulator.start({
      auth: {
        basic: 'ops:s3cret-pw',
        dcos: { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), uid: 'zdd-principal' },
      },
    });
  });
  afterAll(async () => {
    await sim?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function io(extra: string[]) {
    const parsed = parseZddArgs(
      ['-m', `http://127.0.0.1:${dead},${sim.url}`, '-l', 'http://127.0.0.1:9', '-j', 'x.json', ...extra],
      {},
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed));
    const client = zddMarathonClient(parsed.value, quiet);
    if (!client.ok) throw new Error(client.error);
    return { args: parsed.value, io: liveIo(parsed.value, client.value, quiet) };
  }

  const dcosCreds = (): string =>
    JSON.stringify({
      uid: 'zdd-principal',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      login_endpoint: `${sim.url}/acs/api/v1/auth/login`,
    });

  test('a first deploy with a DC/OS service account, the first Marathon URL dead: blue is created', async () => {
    const { args, io: live } = io(['-f', '--dcos-auth-credentials', dcosCreds()]);
    const outcome = await runZdd(args, APP, { ...live, out: () => undefined });
    expect(outcome).toEqual({ kind: 'done', message: 'first deploy: /shop-blue created, nothing to swap' });
    const blue = sim.snapshot().apps.find((a) => a.def.id === '/shop-blue');
    expect(blue?.def.labels).toMatchObject({
      HAPROXY_DEPLOYMENT_COLOUR: 'blue',
      HAPROXY_DEPLOYMENT_GROUP: 'shop',
      HAPROXY_0_PORT: '10200',
    });
    expect(blue?.tasks).toHaveLength(4);
  });

  test('every write zdd makes, with basic auth from a credential file', async () => {
    const file = path.join(dir, 'creds');
    fs.writeFileSync(file, 'ops:s3cret-pw\n');
    const { io: live } = io(['--marathon-auth-credential-file', file]);
    const listed = await live.listApps();
    expect(listed.map((a) => a.id)).toContain('/shop-blue');
    await live.scaleApp('/shop-blue', 5);
    await waitForTasks('/shop-blue', 5);
    const app = await live.getApp('/shop-blue');
    expect(app.instances).toBe(5);
    const victims = app.tasks.slice(0, 2).map((t) => t.id);
    await live.killTasks(victims);
    await waitForTasks('/shop-blue', 3);
    expect(sim.snapshot().apps.find((a) => a.def.id === '/shop-blue')!.def.instances).toBe(3); // scale=true lowered instances
    expect(
      sim
        .snapshot()
        .apps.flatMap((a) => a.tasks)
        .map((t) => t.id),
    ).not.toEqual(expect.arrayContaining([victims[0]]));
    await live.deleteApp('/shop-blue');
    expect(sim.snapshot().apps.map((a) => a.def.id)).not.toContain('/shop-blue');
  });

  test("Marathon's refusals are zdd's exit statuses, in one line naming the request", async () => {
    const wrong = io(['-f', '--auth-credentials', 'ops:wrong']);
    const denied = await runZdd(wrong.args, APP, { ...wrong.io, out: () => undefined });
    expect(exitStatus(denied)).toBe(6);
    expect(denied.kind === 'failed' && denied.error.message).toMatch(
      /^Error while querying marathon \(GET \/v2\/apps\): .*HTTP 401 \(check the Marathon credentials\)/,
    );
    expect(denied.kind === 'failed' && denied.error.message).not.toContain('wrong');

    const right = io(['--auth-credentials', 'ops:s3cret-pw']);
    await right.io.createApp({ ...APP, id: '/twice', labels: {} });
    const err = (await right.io.createApp({ ...APP, id: '/twice', labels: {} }).catch((e: unknown) => e)) as {
      failure: { kind: string; message: string };
    };
    expect(err.failure).toEqual({
      kind: 'app-create',
      message: expect.stringMatching(
        /^Error while creating the app \/twice: POST .*\/v2\/apps: HTTP 409: app \/twice already exists$/,
      ),
    });
    const gone = (await right.io.deleteApp('/no-such-app').catch((e: unknown) => e)) as {
      failure: { kind: string; message: string };
    };
    expect(gone.failure).toEqual({
      kind: 'app-delete',
      message: expect.stringMatching(/^Error while deleting the app \/no-such-app: DELETE .*: HTTP 404/),
    });
  });

  async function waitForTasks(id: string, n: number): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (sim.snapshot().apps.find((a) => a.def.id === id)?.tasks.length === n) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${id} never had ${n} tasks`);
  }
});
