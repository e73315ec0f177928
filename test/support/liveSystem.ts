import * as path from 'node:path';
import { startLive, type LiveSystem } from '../../src/demo/live';
import { MasterSocket } from '../../src/haproxy/masterSocket';
import { parseServersState, type ServerState } from '../../src/haproxy/runtimeApi';
import { memoryLogger, type LogLine } from './controllerHarness';
import { waitFor } from './wait';

/**
 * The whole product on loopback (startLive) with `flags`, logging into `logs`, once the controller
 * has applied `backend` with `servers` servers.
 */
export async function startLiveApplied(o: {
  readonly apps: unknown[];
  readonly logs: LogLine[];
  readonly flags: string[];
  readonly backend: string;
  readonly servers: number;
}): Promise<LiveSystem> {
  const live = await startLive({ apps: o.apps, logger: memoryLogger(o.logs), flags: o.flags });
  await waitFor(
    'initial apply',
    () => live.service.status.status().services.some((s) => s.backend === o.backend && s.servers.length === o.servers),
    25000,
  );
  return live;
}

/** The servers HAProxy runs in `backend`, asked through the master socket. */
export async function haproxyServers(live: LiveSystem, backend: string): Promise<ServerState[]> {
  const r = await MasterSocket.at(path.join(live.dir, 'master.sock'), 5000)
    .worker()
    .send(`show servers state ${backend}`);
  if (!r.ok) throw new Error(r.error);
  const parsed = parseServersState(r.value);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}
