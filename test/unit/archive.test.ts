import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { archiveApplied, archiveCopy, archiveRejected, HaproxyFileError } from '../../src/haproxy/files';

// marathon_lb.py moveTempFile: for suffix in range(archive_versions - 1, 0, -1): copy .suffix to
// .suffix+1 if it exists; then copy the new file to /tmp/<name>.1. Real files in a temp directory.

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-archive-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const listing = (): string[] => fs.readdirSync(dir).sort();
const read = (name: string): string => fs.readFileSync(path.join(dir, name), 'utf8');

describe('--archive-versions as marathon-lb keeps them', () => {
  // Found by an audit: the archives live in /tmp, and `.1` was opened for writing through a planted link.
  it('never writes through a link planted at <name>.1, and only the owner may read a copy', async () => {
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'untouched');
    fs.symlinkSync(victim, path.join(dir, 'haproxy_temp_config_fail.1'));
    await archiveRejected('userlist u\n  user a password secret\n', 1, dir);
    expect(fs.readFileSync(victim, 'utf8')).toBe('untouched');
    const copy = path.join(dir, 'haproxy_temp_config_fail.1');
    expect(fs.lstatSync(copy).isFile()).toBe(true);
    expect(fs.statSync(copy).mode & 0o777).toBe(0o600);
    expect(read('haproxy_temp_config_fail.1')).toBe('userlist u\n  user a password secret\n');
    expect(listing()).toEqual(['haproxy_temp_config_fail.1', 'victim']); // no temp file left
  });

  it('keeps n versions of the applied config as hap_cfg.1 (the live one, newest) .. hap_cfg.n (oldest)', async () => {
    for (let v = 1; v <= 7; v++) await archiveApplied({ config: `v${v}` }, 5, dir);
    expect(listing()).toEqual(['hap_cfg.1', 'hap_cfg.2', 'hap_cfg.3', 'hap_cfg.4', 'hap_cfg.5']);
    expect(['hap_cfg.1', 'hap_cfg.2', 'hap_cfg.3', 'hap_cfg.4', 'hap_cfg.5'].map(read)).toEqual([
      'v7',
      'v6',
      'v5',
      'v4',
      'v3',
    ]);
  });

  it('fills up one version at a time (nothing shifted that does not exist yet)', async () => {
    await archiveApplied({ config: 'v1' }, 3, dir);
    expect(listing()).toEqual(['hap_cfg.1']);
    await archiveApplied({ config: 'v2' }, 3, dir);
    expect(listing()).toEqual(['hap_cfg.1', 'hap_cfg.2']);
    expect([read('hap_cfg.1'), read('hap_cfg.2')]).toEqual(['v2', 'v1']);
  });

  it('with --haproxy-map archives domain_map and app_map too, each rotated the same way', async () => {
    await archiveApplied({ config: 'c1', maps: { domain: 'd1', app: 'a1' } }, 2, dir);
    await archiveApplied({ config: 'c2', maps: { domain: 'd2', app: 'a2' } }, 2, dir);
    await archiveApplied({ config: 'c3', maps: { domain: 'd3', app: 'a3' } }, 2, dir);
    expect(listing()).toEqual(['app_map.1', 'app_map.2', 'domain_map.1', 'domain_map.2', 'hap_cfg.1', 'hap_cfg.2']);
    expect(['domain_map.1', 'domain_map.2', 'app_map.1', 'app_map.2', 'hap_cfg.1', 'hap_cfg.2'].map(read)).toEqual([
      'd3',
      'd2',
      'a3',
      'a2',
      'c3',
      'c2',
    ]);
  });

  it('with n = 1 or n = 0 still writes .1, as upstream does (the range is empty, the copy to .1 is not)', async () => {
    await archiveApplied({ config: 'v1' }, 1, dir);
    await archiveApplied({ config: 'v2' }, 1, dir);
    await archiveCopy('app_map', 'm', 0, dir);
    expect(listing()).toEqual(['app_map.1', 'hap_cfg.1']);
    expect(read('hap_cfg.1')).toBe('v2');
  });

  it('keeps older copies beyond n that an earlier run with a larger n left (upstream never deletes)', async () => {
    fs.writeFileSync(path.join(dir, 'hap_cfg.4'), 'old');
    await archiveApplied({ config: 'v1' }, 2, dir);
    expect(listing()).toEqual(['hap_cfg.1', 'hap_cfg.4']);
  });

  it('keeps configs HAProxy refused as haproxy_temp_config_fail.<k>', async () => {
    await archiveRejected('bad1', 3, dir);
    await archiveRejected('bad2', 3, dir);
    expect(listing()).toEqual(['haproxy_temp_config_fail.1', 'haproxy_temp_config_fail.2']);
    expect(read('haproxy_temp_config_fail.1')).toBe('bad2');
  });

  it('a directory it cannot write is one clear error naming the file', async () => {
    const missing = path.join(dir, 'nope');
    await expect(archiveApplied({ config: 'v' }, 2, missing)).rejects.toThrow(HaproxyFileError);
    await expect(archiveApplied({ config: 'v' }, 2, missing)).rejects.toThrow(
      `cannot archive ${missing}/hap_cfg.1: no such file or directory (ENOENT)`,
    );
  });
});
