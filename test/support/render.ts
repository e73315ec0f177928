import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from '../../src/cli/args';
import { runDry } from '../../src/dry';
import { drySettings } from '../../src/wiring/parts';
import { CFGDIFF } from './paths';

export interface DryRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `marathon-lb --dry` in process with the given flags; env defaults to none. */
export async function dryRun(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
  stdin = '',
): Promise<DryRun> {
  const parsed = parseArgs(['--dry', ...argv], env);
  if (!parsed.ok)
    return { code: 2, stdout: '', stderr: parsed.error.kind === 'error' ? parsed.error.message : parsed.error.text };
  let stdout = '';
  let stderr = '';
  const settings = {
    ...drySettings(parsed.value, env),
    fetchApps: () => Promise.reject(new Error('no Marathon in this test')),
  };
  const code = await runDry(settings, {
    env,
    readStdin: () => Promise.resolve(Buffer.from(stdin, 'utf8')),
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
  });
  return { code, stdout, stderr };
}

export function tempDir(prefix = 'mlb-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Semantic comparison with ../shared/tools/cfgdiff.mjs: '' when equal, else its report. */
export function cfgdiff(expectedFile: string, actualFile: string, map = false): string {
  const r = spawnSync(process.execPath, [CFGDIFF, ...(map ? ['--map'] : []), expectedFile, actualFile], {
    encoding: 'utf8',
    timeout: 20000,
  });
  if (r.status === 0) return '';
  return `${r.stdout}${r.stderr}`.trim() || `cfgdiff exited ${r.status}`;
}
