/**
 * Task churn through HAProxy's runtime API (the stats socket of the current worker): add a server
 * exactly as the rendered config defines it, drain and delete one, flip drain state. The first
 * operation HAProxy refuses stops the update; the caller then reloads (with that as the reason).
 */
import type { ReloadReason } from '../reconcile/reloadReason';
import type { RuntimeOp } from '../reconcile/plan';
import type { CommandChannel, HaproxyLogger } from './masterSocket';
import { RuntimeApi } from './runtimeApi';
import { addServerCommands, addServerSpec } from './serverCommands';

const REFUSAL = /\b(refused|error|unknown|not accepted|No such|cannot)\b/i;

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
    for (const op of ops) {
      const be = op.backend;
      const name = op.server.name;
      if (op.kind === 'add-server') {
        const line = linesOf(be)?.get(name);
        if (line === undefined) return refused(`server ${be}/${name} is not in the rendered config`);
        const spec = addServerSpec(line);
        if (!spec.ok) return refused(spec.error);
        if (!spec.value.exact)
          return refused(
            `${be}/${name} needs ${spec.value.dropped.map((d) => d.keyword).join(', ')}, which HAProxy refuses for dynamic servers`,
          );
        for (const cmd of addServerCommands(be, spec.value)) {
          const r = await this.channel.send(cmd);
          if (!r.ok) return refused(r.error);
          if (REFUSAL.test(r.value) && !/^New server registered/i.test(r.value))
            return refused(`${cmd}: ${r.value.trim()}`);
        }
      } else if (op.kind === 'remove-server') {
        const r = await this.api.drainAndDelete(be, name, { timeoutMs: 2000, force: true });
        if (!r.ok) return refused(r.error);
      } else {
        const r = await this.api.setServerState(be, name, op.draining ? 'maint' : 'ready');
        if (!r.ok) return refused(r.error);
      }
    }
    return null;
  }
}
