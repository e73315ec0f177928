import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { testConfigFiles } from '../support/fixtures';
import { ConfigFiles } from '../../src/haproxy/configFiles';
import { HaproxyFileError, readIfExists, writeAtomic, writeContent } from '../../src/haproxy/files';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-files-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const listing = (): string[] => fs.readdirSync(dir).sort();
const modeOf = (p: string): number => fs.statSync(p).mode & 0o7777;

describe('writeAtomic', () => {
  it('creates a new file with mode 0644 and leaves no temp file', async () => {
    const cfg = path.join(dir, 'haproxy.cfg');
    await writeAtomic(cfg, 'global\n');
    expect(fs.readFileSync(cfg, 'utf8')).toBe('global\n');
    expect(modeOf(cfg)).toBe(0o644);
    expect(listing()).toEqual(['haproxy.cfg']);
  });

  it('replaces an existing file and keeps its mode', async () => {
    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(cfg, 'old');
    fs.chmodSync(cfg, 0o600);
    await writeAtomic(cfg, Buffer.from('new'));
    expect(fs.readFileSync(cfg, 'utf8')).toBe('new');
    expect(modeOf(cfg)).toBe(0o600);
    expect(listing()).toEqual(['haproxy.cfg']);
  });

  it('never makes the file world-writable: a link to a 0666 file becomes a 0644 file, a 0666 file loses o+w', async () => {
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'old');
    fs.chmodSync(target, 0o666);
    const linked = path.join(dir, 'linked.cfg');
    fs.symlinkSync(target, linked);
    await writeAtomic(linked, 'new');
    expect(fs.lstatSync(linked).isFile()).toBe(true);
    expect(modeOf(linked)).toBe(0o644);
    expect(modeOf(target)).toBe(0o666); // the link's target is left alone
    const open = path.join(dir, 'open.cfg');
    fs.writeFileSync(open, 'old');
    fs.chmodSync(open, 0o4666);
    await writeAtomic(open, 'new');
    expect(modeOf(open)).toBe(0o664);
  });

  it('replaces by rename: a reader holding the old file still reads the old text', async () => {
    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(cfg, 'old text');
    const fd = fs.openSync(cfg, 'r');
    try {
      await writeAtomic(cfg, 'new text');
      expect(fs.readFileSync(fd, 'utf8')).toBe('old text');
      expect(fs.readFileSync(cfg, 'utf8')).toBe('new text');
    } finally {
      fs.closeSync(fd);
    }
  });

  it('fails with one line naming the file, removes its temp file and leaves the target as it was', async () => {
    const target = path.join(dir, 'haproxy.cfg');
    fs.mkdirSync(target); // renaming a file over a directory fails
    fs.writeFileSync(path.join(target, 'keep'), 'x');
    const err = await writeAtomic(target, 'text').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HaproxyFileError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot write ${target}: .+\\(E[A-Z]+\\)$`));
    expect(listing()).toEqual(['haproxy.cfg']);
    expect(fs.readdirSync(target)).toEqual(['keep']);
  });

  it('fails clearly when the directory does not exist', async () => {
    const target = path.join(dir, 'missing', 'haproxy.cfg');
    await expect(writeAtomic(target, 'x')).rejects.toThrow(
      `cannot write ${target}: no such file or directory (ENOENT)`,
    );
  });
});

describe('writeContent', () => {
  // Any UTF-16 unit, lone surrogates included, and line breaks often enough to end slices on them.
  const unit = fc.oneof(
    fc.constantFrom('\n', 'a', 'é', '€', '😀', '\ud800', '\udc00'),
    fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)),
  );
  const text = fc.array(unit, { maxLength: 200 }).map((units) => units.join(''));

  it('writes the bytes Buffer.from gives, whatever the slice size and text', async () => {
    const file = path.join(dir, 'out');
    await fc.assert(
      fc.asyncProperty(text, fc.integer({ min: 2, max: 40 }), async (content, sliceUnits) => {
        const handle = await fs.promises.open(file, 'w');
        try {
          await writeContent(handle, content, sliceUnits);
        } finally {
          await handle.close();
        }
        expect(fs.readFileSync(file).equals(Buffer.from(content))).toBe(true);
      }),
      { seed: 20261202, numRuns: 500 },
    );
  });

  it('writes a config of several MiB in slices, byte for byte', async () => {
    const file = path.join(dir, 'big.cfg');
    const line = (i: number): string => `  server 10_0_0_${i} 10.0.0.1:${31000 + (i % 30000)} id ${i} check\n`;
    const content = Array.from({ length: 100_000 }, (_, i) => line(i)).join('') + 'backend é😀\n';
    await writeAtomic(file, content);
    expect(fs.readFileSync(file).equals(Buffer.from(content))).toBe(true);
  });
});

describe('readIfExists', () => {
  it('reads a file, gives undefined for a missing one and a clear error otherwise', async () => {
    const cfg = path.join(dir, 'haproxy.cfg');
    expect(await readIfExists(cfg)).toBeUndefined();
    fs.writeFileSync(cfg, 'text');
    expect(await readIfExists(cfg)).toBe('text');
    await expect(readIfExists(dir)).rejects.toThrow(`cannot read ${dir}: illegal operation on a directory (EISDIR)`);
  });

  it('reads no FIFO or device: there is no file there (a FIFO held the read for good, /dev/full filled memory)', async () => {
    const fifo = path.join(dir, 'fifo.cfg');
    execFileSync('mkfifo', [fifo]);
    const device = path.join(dir, 'device.cfg');
    fs.symlinkSync('/dev/full', device);
    expect(await readIfExists(fifo)).toBeUndefined();
    expect(await readIfExists(device)).toBeUndefined();
  });
});

/** ConfigFiles at `configPath`, quiet, archiving nothing, with `validate` as its `haproxy -c`. */
function configFiles(
  configPath: string,
  haproxyMap: boolean,
  validate: ConstructorParameters<typeof ConfigFiles>[0]['validate'],
): ConfigFiles {
  return new ConfigFiles({
    configPath,
    haproxyMap,
    archiveVersions: 0,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined },
    live: { hardStopAfterSeconds: undefined, maxOldWorkers: 10 },
    validate,
  });
}

describe('ConfigFiles.check', () => {
  it('leaves no candidate map behind when the candidate config cannot be written', async () => {
    const configPath = path.join(dir, 'haproxy.cfg');
    const files = configFiles(configPath, true, () => Promise.resolve({ ok: true, value: undefined }));
    // The candidate config's place is taken by a directory: its write fails after both maps' were written.
    fs.mkdirSync(`${configPath}.candidate`);
    fs.writeFileSync(path.join(`${configPath}.candidate`, 'keep'), '');
    await expect(files.check({ config: 'global\n', domainMap: 'a b\n', appMap: '/a b\n' })).rejects.toThrow(
      /cannot write .*haproxy\.cfg\.candidate/,
    );
    expect(listing()).toEqual(['haproxy.cfg.candidate']);
    expect(fs.readdirSync(`${configPath}.candidate`)).toEqual(['keep']);
  });
});

describe('ConfigFiles.checkOnDisk', () => {
  // A fault test: `haproxy -c -f <dir>` printed HAProxy's usage, and the log said "-dW fails if any warning…".
  it('a directory where the config file should be is named as such, and haproxy -c is not run on it', async () => {
    const configPath = path.join(dir, 'haproxy.cfg');
    fs.mkdirSync(configPath);
    let checked = 0;
    const files = configFiles(configPath, false, () => {
      checked++;
      return Promise.resolve({ ok: true, value: undefined });
    });
    expect(await files.checkOnDisk()).toEqual({
      ok: false,
      error: { message: `${configPath} is a directory, not HAProxy's config file: remove it`, refused: false },
    });
    expect(checked).toBe(0);
  });
});

describe('ConfigFiles.saveServerState', () => {
  const header =
    '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port';
  const row = (be: string, id: number, name: string, admin: number): string =>
    `3 ${be} ${id} ${name} 10.0.0.${id} 2 ${admin} 1 1 5 1 0 2 0 0 0 0 - 31000 - 0 0 - - 0`;

  it('a HAProxy started (after a crash, a stop) starts with no saved state: the file of its last reload is stale', async () => {
    const configPath = path.join(dir, 'haproxy.cfg');
    const stateFile = path.join(dir, 'state', 'global');
    fs.mkdirSync(path.dirname(stateFile));
    fs.writeFileSync(
      configPath,
      `global\n  server-state-base ${path.dirname(stateFile)}/\n  server-state-file global\n`,
    );
    // Saved at the last reload, with a server in MAINT (1) that was set ready through the runtime API since.
    fs.writeFileSync(stateFile, ['1', header, row('app_10000', 1, '10_0_0_1_31000', 1), ''].join('\n'));
    const files = testConfigFiles(configPath, () => Promise.resolve({ ok: true, value: undefined }));
    await files.saveServerState('');
    expect(fs.readFileSync(stateFile, 'utf8')).toBe('1\n');
  });

  it("keeps only the servers the config about to be read has: a removed one's drain is not carried to a later server of its name", async () => {
    const configPath = path.join(dir, 'haproxy.cfg');
    const stateFile = path.join(dir, 'state', 'global');
    fs.mkdirSync(path.dirname(stateFile));
    fs.writeFileSync(
      configPath,
      [
        'global',
        `  server-state-base ${path.dirname(stateFile)}/`,
        '  server-state-file global',
        'frontend app_10000',
        '  bind *:10000',
        '  use_backend app_10000',
        'backend app_10000',
        '  server 10_0_0_1_31000 10.0.0.1:31000 id 1',
        '',
      ].join('\n'),
    );
    const files = testConfigFiles(configPath, () => Promise.resolve({ ok: true, value: undefined }));
    // The old worker's dump: 10_0_0_2 is being removed, in drain (8) with a request still running.
    await files.saveServerState(
      ['1', header, row('app_10000', 1, '10_0_0_1_31000', 0), row('app_10000', 2, '10_0_0_2_31000', 8), ''].join('\n'),
    );
    expect(fs.readFileSync(stateFile, 'utf8')).toBe(
      ['1', header, row('app_10000', 1, '10_0_0_1_31000', 0), ''].join('\n'),
    );
  });
});
