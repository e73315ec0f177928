import * as v8 from 'node:v8';
import { MAX_APP_DEFINITION_BYTES, readStreamBounded } from './boundedRead';
import { unknownSettings, type CheckLabelsArgs } from './cli/args';
import type { Options } from './cli/options';
import { runCheckLabels } from './checkLabels/check';
import { runDryProcess } from './dry';
import { exitOnceWritten } from './exitOnceWritten';
import { createLogger } from './log';
import { drySettings } from './wiring/parts';
import type { RunningService } from './service';
import { bootstrap, serviceStart } from './wiring/bootstrap';

async function readStdin(): Promise<string> {
  return (await readStreamBounded(process.stdin, 'standard input', MAX_APP_DEFINITION_BYTES)).toString('utf8');
}

/** `marathon-lb check-labels`: checks one app definition; returns the exit code. */
export function runCheckLabelsCommand(
  args: CheckLabelsArgs,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  let lookupsLeft = false;
  const code = runCheckLabels(args, {
    env,
    readStdin,
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    lookupsLeft: () => (lookupsLeft = true),
  });
  // As runDryProcess: lookups past their bound would keep the process alive.
  return code.then((c) => (lookupsLeft ? exitOnceWritten(c) : c));
}

/** Wires ports and runs the requested mode. Returns the exit code (the live service returns on SIGINT/SIGTERM). */
export async function main(options: Options, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  if (options.dry) return runDryProcess(drySettings(options, env), env); // the one --dry path, as bin/marathon-lb.ts
  // V8 lets the heap grow to about twice what survived the last full GC before the next one. Each
  // snapshot of a big cluster leaves tens of MB of garbage (apps, configs): at 10 000 apps the
  // controller then peaked at 404–467 MiB. With 1.25× it stayed under 400 MiB, for a few more
  // (incremental, mostly concurrent) full GCs. Read at each GC, so it takes effect when set here.
  v8.setFlagsFromString('--heap-growing-percent=25');
  // A log that cannot be written (a full disk, a closed pipe, /dev/full) must not stop the
  // controller: an unhandled error event of stdout or stderr ended the process with HAProxy orphaned.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const logger = createLogger({
    level: options.logLevel,
    format: options.logFormat,
    syslogSocket: options.syslogSocket,
  });
  for (const line of unknownSettings(env)) logger.warn(line);
  // Listen before starting anything: a signal during startup is a shutdown too, bounded the same way.
  let started: RunningService | undefined;
  let stopping = false;
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    // Kept installed: a second signal must not end the process at once with HAProxy half-stopped.
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping)
        logger.warn(
          `${sig}: already stopping (the process exits within --shutdown-timeout ${options.shutdownTimeout} s)`,
        );
      stopping = true;
      resolve(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  void signal.then((sig) => {
    // Whatever is under way (an apply, a reload, HAProxy finishing connections), the process exits in time.
    const deadline = setTimeout(() => {
      logger.error(
        `${sig}: not stopped within --shutdown-timeout ${options.shutdownTimeout} s: exiting now${options.leaveHaproxyRunning ? '' : ', HAProxy killed'}`,
      );
      if (!options.leaveHaproxyRunning && !options.haproxyAttach) started?.haproxy.killNow();
      process.exit(1);
    }, options.shutdownTimeout * 1000);
    deadline.unref();
  });
  // Outside marathon-lb's image: bundled Lua, a self-signed certificate, a maxconn the fd limit allows (each logged).
  const start = await bootstrap(
    { from: { options }, env, logger: () => logger, firstStart: true },
    serviceStart({ processSignals: true }),
  );
  if (!start.ok) {
    process.stderr.write(`marathon-lb: ${start.error}\n`);
    return 2;
  }
  const service = start.value;
  started = service;
  if (service.onePass !== undefined) {
    // --command without --sse: one pass, as marathon-lb (its poll mode is a loop around such runs).
    const code = await Promise.race([service.onePass, signal.then(() => 0)]);
    await service.stop();
    return service.lookupsPending() ? exitOnceWritten(code) : code;
  }
  logger.info(`${await signal}: stopping`);
  await service.stop();
  // Stopped: a lookup of a name server that does not answer held the process until --shutdown-timeout,
  // which then exited 1 saying HAProxy was killed (an audit).
  return service.lookupsPending() ? exitOnceWritten(0) : 0;
}
