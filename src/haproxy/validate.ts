/**
 * `haproxy -c -f <cfg>`: does HAProxy accept this config? The failure message is HAProxy's
 * ALERT lines without their "[ALERT]    (pid) : " prefix. Note: -c does not notice fd limits
 * (see limits.ts).
 */
import { spawn } from 'node:child_process';

export type ValidateResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

const MAX_OUTPUT = 256 * 1024;

const SUMMARY = /Error\(s\) found in configuration file|Fatal errors found in configuration/;

/**
 * HAProxy's ALERT lines from its output, prefixes removed, without the closing summaries
 * ("Fatal errors found …") when there is something more specific; the last lines when there
 * are no ALERTs at all.
 */
export function alertLines(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const alerts = lines.filter((l) => l.startsWith('[ALERT]')).map((l) => l.replace(/^\[ALERT\]\s*(\(\d+\)\s*)?:\s*/, ''));
  const specific = alerts.filter((l) => !SUMMARY.test(l));
  if (specific.length > 0) return specific.join('\n');
  return (alerts.length > 0 ? alerts : lines.slice(-5)).join('\n');
}

export function validateConfig(bin: string, cfgPath: string, timeoutMs: number): Promise<ValidateResult> {
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    const finish = (r: ValidateResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const child = spawn(bin, ['-c', '-f', cfgPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const append = (d: Buffer): void => {
      if (output.length < MAX_OUTPUT) output += d.toString('utf8');
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ ok: false, message: `${bin} -c -f ${cfgPath} did not finish within ${timeoutMs} ms` });
    }, timeoutMs);
    child.once('error', (err: NodeJS.ErrnoException) =>
      finish({ ok: false, message: `cannot run ${bin} to check ${cfgPath}: ${err.code ?? err.message}` }),
    );
    child.once('close', (code, signal) => {
      if (code === 0) return finish({ ok: true });
      const why = alertLines(output) || (signal ? `killed by ${signal}` : `exit code ${code}`);
      finish({ ok: false, message: why });
    });
  });
}
