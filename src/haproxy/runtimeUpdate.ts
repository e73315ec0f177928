/**
 * Task churn through HAProxy's runtime API (the stats socket of the current worker): add a server
 * exactly as the rendered config defines it, drain and delete one, flip drain state. Commands go in
 * batches, many to one exchange (a scale of 1 000 tasks is 2 000 commands), and the servers a change
 * removes drain together.
 * The first operation HAProxy refuses stops the update (the rest of its batch has run too); the
 * caller then reloads (with that as the reason), and the config it loads has every server.
 */
import type { ReloadReason } from '../reconcile/reloadReason';
import type { RuntimeOp } from '../reconcile/plan';
import { PER_EXCHANGE, sendAll, type CommandChannel, type HaproxyLogger } from './masterSocket';
import { checkNames, RuntimeApi, stateCommand, type ServerRef } from './runtimeApi';
import { addServerCommands, addServerSpec } from './serverCommands';

const REFUSAL = /\b(refused|error|unknown|not accepted|No such|cannot)\b/i;

interface Pending {
  readonly cmd: string;
  readonly accepted: (answer: string) => boolean;
}

/**
 * How long a removed server stays in maintenance before `del server`. Traffic left it at `drain`;
 * the wait is for HAProxy: 2.6 (Debian 12's 2.6.12) frees a server that streams and connections
 * still point to for a moment after its sessions count 0 (fixed upstream in 2023–2024 and backported
 * to 2.6 releases after 2.6.12: "don't delete a dynamic server that has streams", "fix stream crash
 * due to deleted server", "do not delete srv referenced by session").
 * Deleted at once, a worker crashed every 15 s under task churn with traffic, each crash an outage
 * of every listener (found by a soak: 12 crashes in 180 s, none with this wait).
 */
const SETTLE_BEFORE_DELETE_MS = 1000;

/**
 * How long a removed server's requests may take to end before it is deleted. Longer ones are not
 * cut: the update is refused and the reload that follows leaves them to the old worker, which
 * finishes them (a task Marathon is killing answers through its grace period, as upstream's reload
 * let it), while the servers stay out of rotation in drain.
 */
const DRAIN_WAIT_MS = 2000;

/**
 * `add server` took: HAProxy (2.4 on) says "New server registered." then, and only then; an empty or
 * other answer is no success (a server silently missing from rotation until the next reload). The
 * commands after it (`enable server`, …) answer nothing when they take.
 */
const accepts =
  (cmd: string) =>
  (answer: string): boolean =>
    cmd.startsWith('add server ') ? /^New server registered/im.test(answer) : !REFUSAL.test(answer);
const emptyAnswer = (answer: string): boolean => answer.trim() === '';

export class RuntimeUpdater {
  private readonly api: RuntimeApi;

  constructor(
    private readonly channel: CommandChannel,
    logger: HaproxyLogger,
  ) {
    this.api = new RuntimeApi({ channel, logger });
  }

  /** Applies `ops` (servers as `linesOf(backend)` prints them, by name). Null when all went through, else why a reload is needed. */
  async apply(
    ops: readonly RuntimeOp[],
    linesOf: (backend: string) => ReadonlyMap<string, string> | undefined,
  ): Promise<ReloadReason | null> {
    const refused = (detail: string): ReloadReason => ({ kind: 'runtime-refused', detail });
    const pending: Pending[] = [];
    const flush = async (): Promise<ReloadReason | null> => {
      const batch = pending.splice(0);
      if (batch.length === 0) return null;
      const answers = await sendAll(
        this.channel,
        batch.map((p) => p.cmd),
      );
      if (!answers.ok) return refused(answers.error);
      for (let i = 0; i < batch.length; i++) {
        const answer = answers.value[i]!;
        if (!batch[i]!.accepted(answer)) return refused(`${batch[i]!.cmd}: ${answer.trim() || 'empty answer'}`);
      }
      return null;
    };
    // Servers to drain and delete, together: a scale-down's removals wait once, not once each.
    const removing: ServerRef[] = [];
    const remove = async (): Promise<ReloadReason | null> => {
      if (removing.length === 0) return null;
      const r = await this.api.drainAndDeleteAll(removing.splice(0), {
        timeoutMs: DRAIN_WAIT_MS,
        settleMs: SETTLE_BEFORE_DELETE_MS,
      });
      return r.ok ? null : refused(r.error);
    };
    for (const op of ops) {
      const be = op.backend;
      const name = op.server.name;
      // In the plan's order: what was pending of the other kind goes first.
      const before = op.kind === 'remove-server' ? await flush() : await remove();
      if (before !== null) return before;
      if (op.kind === 'add-server') {
        const line = linesOf(be)?.get(name);
        if (line === undefined) return refused(`server ${be}/${name} is not in the rendered config`);
        const spec = addServerSpec(line);
        if (!spec.ok) return refused(spec.error);
        if (!spec.value.exact)
          return refused(
            `${be}/${name} needs ${spec.value.dropped.map((d) => d.keyword).join(', ')}, which HAProxy refuses for dynamic servers`,
          );
        for (const cmd of addServerCommands(be, spec.value)) pending.push({ cmd, accepted: accepts(cmd) });
      } else if (op.kind === 'remove-server') {
        removing.push({ backend: be, name });
      } else {
        const bad = checkNames(be, name);
        if (bad !== undefined) return refused(bad.error);
        pending.push({
          cmd: stateCommand(be, name, op.draining ? 'maint' : 'ready'),
          accepted: emptyAnswer,
        });
      }
      // Sent as each exchange fills: a refusal stops what comes after it.
      if (pending.length >= PER_EXCHANGE) {
        const r = await flush();
        if (r !== null) return r;
      }
    }
    return (await remove()) ?? (await flush());
  }
}
