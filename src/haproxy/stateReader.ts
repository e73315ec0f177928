/**
 * Reads HAProxy's runtime state — one `show stat` through the master socket, routed to the
 * current worker — for the admin API, parsed as it arrives where the channel streams. A connection of its own (never queued behind the
 * controller's runtime updates), one command per read, bounded by a timeout; nothing is sent while
 * HAProxy is not running.
 */
import type { SchedulerLike } from 'rxjs';
import { CliSocket, MasterSocket, type CommandChannel } from './masterSocket';
import { type Result, err } from '../result';
import { StatReader, parseStatSample, type StatSample } from './stats';

export interface StateReaderOptions {
  /** The worker channel (MasterSocket.worker()); tests may pass any CommandChannel. */
  readonly channel: CommandChannel;
  /** False while HAProxy is not running (not started yet, stopped, restarting). */
  readonly running: () => boolean;
  /** Epoch ms. */
  readonly now: () => number;
}

export type ReadState = () => Promise<Result<StatSample>>;

/** The read's error when HAProxy is not running: its state is unknown at once (HaproxyState). */
export const NOT_RUNNING = 'HAProxy is not running';

export function stateReader(o: StateReaderOptions): ReadState {
  return async () => {
    if (!o.running()) return err(NOT_RUNNING);
    const at = o.now();
    if (o.channel.stream === undefined) {
      const answer = await o.channel.send('show stat');
      if (!answer.ok) return err(`show stat: ${answer.error}`);
      return parseStatSample(answer.value, at);
    }
    // Read as it arrives: 40 000 rows at 10 000 backends, in pieces between which the controller goes on.
    const reader = new StatReader(at);
    const read = await o.channel.stream('show stat', (text) => reader.push(text));
    if (!read.ok) return err(`show stat: ${read.error}`);
    return reader.cutShort() ? err('show stat: the answer was cut short (HAProxy reloading?)') : reader.end();
  };
}

/**
 * A reader on a connection of its own to the master socket at `path`; the answer is read a piece
 * per `scheduler` task, so what waits meanwhile (task events, runtime updates) is served in between.
 */
export function masterSocketStateReader(
  path: string,
  timeoutMs: number,
  running: () => boolean,
  now: () => number,
  scheduler: SchedulerLike,
): ReadState {
  const socket = new CliSocket({ path, timeoutMs, pace: (resume) => void scheduler.schedule(resume) });
  return stateReader({ channel: new MasterSocket(socket).worker(), running, now });
}
