import type { Options } from './cli/options';
import { runDry } from './dry';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Wires ports and runs the requested mode; the only place that constructs effects. */
export async function main(options: Options, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  if (options.dry) {
    return runDry(options, {
      env,
      readStdin,
      stdout: (s) => process.stdout.write(s),
      stderr: (s) => process.stderr.write(s),
      fetchApps: () => Promise.reject(new Error('fetching from Marathon is not wired yet; use --apps-file')),
    });
  }
  process.stderr.write('marathon-lb: the live service is not wired yet; use --dry --apps-file\n');
  return 2;
}
