import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './paths';
import { waitFor } from './wait';

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Everything the service printed so far (stdout and stderr). */
  output(): string;
  /** Waits (bounded) for the first healthy apply; the error carries the service's last output. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * The built CLI as users run it (`npm start`), configured by flags and MLB_* env. `ignoring`: signals
 * it starts with ignored (a disposition that survives exec), e.g. XFSZ, so that a write past a file
 * size limit fails with EFBIG instead of killing it.
 */
export function spawnService(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  o: { readonly ignoring?: readonly string[] } = {},
): ServiceProcess {
  const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
  const child =
    o.ignoring === undefined
      ? spawn(process.execPath, [CLI, ...args], { env, stdio })
      : spawn('bash', ['-c', `trap '' ${o.ignoring.join(' ')}; exec "$0" "$@"`, process.execPath, CLI, ...args], {
          env,
          stdio,
        });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return {
    child,
    output: () => output,
    ready: (timeoutMs = 20000) =>
      waitFor('HAProxy reloaded and healthy', () => /HAProxy reloaded and healthy/.test(output), timeoutMs).catch(
        (e: Error) => {
          throw new Error(`${e.message}\n${output.slice(-3000)}`);
        },
      ),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
