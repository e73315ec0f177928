import { MAX_APP_DEFINITION_BYTES, readFileBounded, TooLargeError } from '../boundedRead';
import { createLogger } from '../log';
import { parseZddArgs } from './args';
import { EXIT_STATUS } from './errors';
import { liveIo, zddMarathonClient } from './liveIo';
import { runZdd, type ZddOutcome } from './run';
import { jsonErrorMessage } from '../jsonError';
import { fileErrorText } from '../fileErrorText';

/** --longhelp: what zdd.py's module documentation would say (upstream prints None). */
export const LONGHELP = `marathon-lb zdd: zero-downtime blue/green deploys behind marathon-lb

  marathon-lb zdd -m http://marathon:8080 -l http://marathon-lb:9090 -j app.json -f

The app JSON needs two labels:
  HAPROXY_DEPLOYMENT_GROUP     the name both colours share (marathon-lb serves them as one backend)
  HAPROXY_DEPLOYMENT_ALT_PORT  the service port the other colour runs on
Its first service port is the port clients use (HAPROXY_0_PORT).

Procedure:
  1. Marathon's apps with the same HAPROXY_DEPLOYMENT_GROUP are the previous deploys. With none, the
     app is created as <id>-blue with its own instances. With one, the new app is the other colour
     (<id>-green or <id>-blue) on the alternate service port, starting with --initial-instances and
     labelled HAPROXY_DEPLOYMENT_COLOUR, _TARGET_INSTANCES (the old app's instances),
     _NEW_INSTANCES (--new-instances), _STARTED_AT; HAPROXY_APP_ID keeps the original id.
     The definition is printed; --dry-run stops here, otherwise (after a prompt unless --force) it is posted.
  2. Every --step-delay seconds: once Marathon has no deployment of the new app, no marathon-lb is
     reloading (/_haproxy_getpids), marathon-lb's stats (/haproxy?stats;csv, on every address
     --marathon-lb resolves to) list the tasks of both colours, the target number is UP and old
     tasks are drained (MAINT, no session, nothing queued), the drained tasks are killed with
     POST /v2/tasks/delete?scale=true (after --pre-kill-hook, if given, exits 0) and the new app grows
     by half (or by --linear-increase), until it reaches its target.
     After --max-wait seconds without a drained task, tasks still draining are killed.
  3. Then the old app is deleted.

Two apps in the group mean a deploy was interrupted or is hybrid (--new-instances N keeps N new
instances beside the old ones): --resume carries on; --complete-cur moves all instances to the newest
app; --complete-prev moves them back to the previous one.

Exit status: 0 done, 1 declined at a prompt, 2 other errors (flags, pre-kill hook, a deploy in progress
without --resume), 3 --complete-* without a hybrid deploy, 4 missing field in the app JSON,
5 marathon-lb unreadable, 6 Marathon unreadable, 7 app not created, 8 app not deleted, 9 app not scaled.
`;

/** Python's recursion limit, where zdd.py's json.loads gives up (RecursionError). */
const MAX_JSON_DEPTH = 1000;

/** Whether arrays and objects nest more than `max` levels in `value` (walked without recursion). */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [v, depth] = next;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) pending.push([child, depth + 1]);
  }
  return false;
}

export function exitStatus(o: ZddOutcome): number {
  return o.kind === 'done' ? 0 : o.kind === 'declined' ? 1 : EXIT_STATUS[o.error.kind];
}

/** `marathon-lb zdd …` / `marathon-lb-zdd …`: argv without the subcommand; resolves to the exit status. */
export async function runZddCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const parsed = parseZddArgs(argv, env);
  if (!parsed.ok) {
    const stop = parsed.error;
    if (stop.kind === 'help') return (process.stdout.write(stop.text), 0);
    if (stop.kind === 'longhelp') return (process.stdout.write(LONGHELP), 0);
    process.stderr.write(`marathon-lb zdd: error: ${stop.message}\n`);
    return 2;
  }
  const a = parsed.value;
  const logger = createLogger({ level: a.logLevel, format: a.logFormat, syslogSocket: a.syslogSocket, name: 'zdd' });
  let appJson: unknown;
  try {
    appJson = JSON.parse(readFileBounded(a.json, MAX_APP_DEFINITION_BYTES).toString('utf8'));
  } catch (e) {
    const why =
      e instanceof TooLargeError
        ? `larger than an app definition can be (${MAX_APP_DEFINITION_BYTES / 2 ** 20} MiB)`
        : (e as NodeJS.ErrnoException).code !== undefined
          ? fileErrorText(e)
          : jsonErrorMessage(e);
    logger.error(`--json ${a.json}: ${why}`);
    return 2;
  }
  // JSON.parse reads any depth, but zdd's own walks over the definition recurse: past the stack they
  // failed with a bare "Maximum call stack size exceeded". zdd.py's json.loads stops at 1 000 too.
  if (nestedDeeperThan(appJson, MAX_JSON_DEPTH)) {
    logger.error(`--json ${a.json}: nested deeper than ${MAX_JSON_DEPTH} levels, which no app definition is`);
    return 2;
  }
  const client = zddMarathonClient(a, logger);
  if (!client.ok) {
    logger.error(client.error);
    return 2;
  }
  // Stopped midway, a deploy is left as it is, both colours maybe (as zdd.py leaves it): said, with
  // how to finish it; it ended without a word (an audit). The exit statuses stay a signal's.
  const stopped = (signal: NodeJS.Signals, status: number) => (): void => {
    process.stderr.write(
      `marathon-lb zdd: stopped by ${signal}: a deploy under way is left as it is (both colours may run); run zdd again with --resume to finish it\n`,
    );
    process.exit(status);
  };
  const onInt = stopped('SIGINT', 130);
  const onTerm = stopped('SIGTERM', 143);
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  let outcome: Awaited<ReturnType<typeof runZdd>>;
  try {
    outcome = await runZdd(a, appJson, liveIo(a, client.value, logger));
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  if (outcome.kind === 'failed') logger.error(`${outcome.error.message} (exit status ${exitStatus(outcome)})`);
  else logger.info(outcome.message);
  return exitStatus(outcome);
}
