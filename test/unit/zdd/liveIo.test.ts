import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseZddArgs, type ZddArgs } from '../../../src/zdd/args';
import { ZddError } from '../../../src/zdd/errors';
import { liveIo, zddMarathonClient } from '../../../src/zdd/liveIo';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

function ioFor(extra: string[] = []) {
  const parsed = parseZddArgs(
    ['-m', 'http://127.0.0.1:1', '-l', 'http://localhost:9090', '-j', 'x.json', ...extra],
    {},
  );
  if (!parsed.ok) throw new Error('flags');
  const client = zddMarathonClient(parsed.value, quiet);
  if (!client.ok) throw new Error(client.error);
  return { io: liveIo(parsed.value, client.value, quiet), args: parsed.value as ZddArgs };
}

describe('zdd effects (liveIo)', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zdd-io-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the pre-kill hook runs as a real process with the three JSON arguments; a non-zero exit stops the deploy', async () => {
    const { io } = ioFor();
    const hook = path.join(dir, 'hook.sh');
    const seen = path.join(dir, 'seen');
    fs.writeFileSync(hook, `#!/bin/sh\nprintf '%s\\n' "$1" "$2" "$3" > ${seen}\nexit "\${HOOK_EXIT:-0}"\n`, {
      mode: 0o755,
    });
    await io.runHook(hook, ['{"id": "/old"}', '["t1", "t2"]', '{"id": "/new"}']);
    expect(fs.readFileSync(seen, 'utf8')).toBe('{"id": "/old"}\n["t1", "t2"]\n{"id": "/new"}\n');

    const failing = path.join(dir, 'fail.sh');
    fs.writeFileSync(failing, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    const err = await io.runHook(failing, ['{}', '[]', '{}']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZddError);
    expect((err as ZddError).failure).toEqual({
      kind: 'other',
      message: `pre-kill hook '${failing}' exited with status 3: deploy stopped, an operator must intervene`,
    });
  });

  test('--marathon-lb is looked at once per IPv4 address of its host name', async () => {
    const { io } = ioFor();
    expect(await io.marathonLbUrls()).toContain('http://127.0.0.1:9090');
  });

  test('Marathon unreachable: exit-6 kind, naming the request', async () => {
    const { io } = ioFor();
    const err = (await io.listApps().catch((e: unknown) => e)) as ZddError;
    expect(err.failure.kind).toBe('marathon-endpoint');
    expect(err.failure.message).toMatch(
      /^Error while querying marathon \(GET \/v2\/apps\): GET http:\/\/127\.0\.0\.1:1\/v2\/apps failed/,
    );
  });

  test('credentials must be user:pass', () => {
    const parsed = parseZddArgs(['-m', 'http://m', '-l', 'http://l', '-j', 'x', '--auth-credentials', 'nocolon'], {});
    expect(parsed.ok && zddMarathonClient(parsed.value, quiet)).toEqual({
      ok: false,
      error: 'Please provide marathon credentials in user:pass format',
    });
  });
});
