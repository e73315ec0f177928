/**
 * Clients for HAProxy's command sockets (unix sockets only).
 *
 * - CliSocket: one exchange per connection, HAProxy's non-interactive mode: connect, write the
 *   command (or several, `a;b;c`), half-close (HAProxy's master CLI answers only after our end of
 *   the stream), read until HAProxy closes. Exchanges on one CliSocket run one at a time; each has
 *   a timeout. (No `prompt` mode: a fresh connection per exchange needs no prompt parsing.)
 * - MasterSocket: the master CLI (`haproxy -W -S <path>`): `show proc` parsed, `reload`, and a
 *   channel that routes commands to the current worker (`@1 <command>`).
 */
import { connect } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { err, ok, type Err, type Result } from '../result';

export interface HaproxyLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug(msg: string): void;
}

/** Sends one command and resolves with HAProxy's whole answer. */
export interface CommandChannel {
  send(command: string): Promise<Result<string>>;
  /**
   * Where the channel can: several commands in one exchange, HAProxy's answer to each in order.
   * HAProxy runs every one of them, also after one it refuses. (sendAll below falls back to send.)
   */
  sendAll?(commands: readonly string[]): Promise<Result<string[]>>;
  /**
   * Where the channel can: hands each piece of the answer to `onText` as it arrives (decoded text,
   * split anywhere), and resolves once the answer is complete. For long answers (`show stat` at
   * 10 000 backends is 10 MB), read as they come rather than held and read in one block.
   */
  stream?(command: string, onText: (text: string) => void): Promise<Result<void>>;
}

/** What an exchange does with the answer's bytes. */
interface Sink<T> {
  data(d: Buffer): void;
  /** Reading is paced between pieces (CliSocketOptions.pace). */
  readonly paced?: boolean;
  /** The answer is complete. */
  done(): T;
}

export interface CliSocketOptions {
  readonly path: string;
  /**
   * How long HAProxy may be silent: from connect to its first byte, then between pieces of its answer.
   * Not the whole exchange: 256 `add server`s into a backend of 40 000 servers take HAProxy more than
   * 5 s, answered one by one as they go, and a bound on the whole cut them off (then reloaded instead).
   */
  readonly timeoutMs: number;
  readonly logger?: HaproxyLogger;
  /** Answers longer than this fail (default 32 MiB). */
  readonly maxAnswerBytes?: number;
  /**
   * For stream: after each piece, reading stops until this calls `resume` (an injected scheduler's
   * `schedule`), so what else waits is served between pieces: Node otherwise reads up to 32 pieces
   * of one socket in a row. Absent: reading goes on at once.
   */
  readonly pace?: (resume: () => void) => void;
}

export class CliSocket implements CommandChannel {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: CliSocketOptions) {}

  get path(): string {
    return this.opts.path;
  }

  /** Runs after every command sent before it has finished (serialized per socket). */
  send(command: string): Promise<Result<string>> {
    const bad = refusedCommand(command);
    if (bad !== undefined) return Promise.resolve(bad);
    return this.whole(command);
  }

  /**
   * The commands joined by `;` in one exchange: 256 `add server`s take ~30 ms this way, and ~0.4 ms
   * each (more on a busy controller) one connection at a time.
   */
  sendAll(commands: readonly string[]): Promise<Result<string[]>> {
    for (const c of commands) {
      const bad = refusedCommand(c);
      if (bad !== undefined) return Promise.resolve(bad);
    }
    if (commands.length === 0) return Promise.resolve(ok([]));
    return this.whole(commands.join(';')).then((r) => (r.ok ? splitAnswers(r.value, commands) : r));
  }

  private whole(line: string): Promise<Result<string>> {
    const chunks: Buffer[] = [];
    return this.queued(line, {
      data: (d) => chunks.push(d),
      done: () => Buffer.concat(chunks).toString('utf8'),
    });
  }

  /** As send, the answer handed over piece by piece (see CommandChannel.stream). */
  stream(command: string, onText: (text: string) => void): Promise<Result<void>> {
    const bad = refusedCommand(command);
    if (bad !== undefined) return Promise.resolve(bad);
    const decoder = new StringDecoder('utf8');
    return this.queued(command, {
      paced: true,
      data: (d) => onText(decoder.write(d)),
      done: () => {
        const rest = decoder.end();
        if (rest !== '') onText(rest);
      },
    });
  }

  private queued<T>(command: string, sink: Sink<T>): Promise<Result<T>> {
    const run = (): Promise<Result<T>> => this.exchange(command, sink);
    const answer = this.queue.then(run, run);
    this.queue = answer;
    return answer;
  }

  private exchange<T>(command: string, sink: Sink<T>): Promise<Result<T>> {
    const { path, timeoutMs } = this.opts;
    const max = this.opts.maxAnswerBytes ?? 32 * 1024 * 1024;
    this.opts.logger?.debug(`haproxy ${path} <- ${command}`);
    return new Promise((resolve) => {
      let size = 0;
      let settled = false;
      const socket = connect(path);
      const finish = (result: () => Result<T>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        try {
          resolve(result());
        } catch (e) {
          resolve(err(`reading HAProxy's answer to ${quoted(command)}: ${(e as Error).message}`));
        }
      };
      const complete = (): void => finish(() => ok(sink.done()));
      // Timers run before a turn reads its sockets: after a stall of this process (a flood of events to
      // take in), an answer that came meanwhile would lose to the timer. It is judged after that turn's
      // reads (found by a flood test: HAProxy was called silent, then down, while it answered).
      let heardTimes = 0;
      const silent = (): void => {
        const before = heardTimes;
        setImmediate(() => {
          if (heardTimes !== before) return;
          finish(() =>
            err(
              `HAProxy socket ${path} gave no complete answer to ${quoted(command)}: nothing came for ${timeoutMs} ms`,
            ),
          );
        });
      };
      let timer = setTimeout(silent, timeoutMs);
      const heard = (): void => {
        heardTimes++;
        clearTimeout(timer);
        timer = setTimeout(silent, timeoutMs);
      };
      socket.once('connect', () => socket.end(`${command}\n`));
      socket.on('data', (d: Buffer) => {
        heard();
        size += d.length;
        if (size > max) return finish(() => err(`HAProxy's answer to ${quoted(command)} is larger than ${max} bytes`));
        try {
          sink.data(d);
        } catch (e) {
          return finish(() => err(`reading HAProxy's answer to ${quoted(command)}: ${(e as Error).message}`));
        }
        const pace = this.opts.pace;
        if (sink.paced === true && pace !== undefined) {
          socket.pause();
          pace(() => {
            if (settled) return;
            heard(); // the pause was this side's
            socket.resume();
          });
        }
      });
      socket.once('end', complete);
      socket.once('close', complete);
      socket.once('error', (e: NodeJS.ErrnoException) => {
        const why =
          e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
            ? `nothing listens on ${path} (${e.code}): is HAProxy running?`
            : `cannot talk to HAProxy on ${path}: ${e.code ?? e.message}`;
        finish(() => err(why));
      });
    });
  }
}

/**
 * A line break ends a command and `;` starts the next one: either inside one command (a server
 * option from a label, say) would have HAProxy run a second command nobody chose.
 */
function refusedCommand(command: string): Err<string> | undefined {
  return /[\r\n;]/.test(command)
    ? err(
        `refusing a command with a line break or ';' (HAProxy would run what follows as another command): ${JSON.stringify(command)}`,
      )
    : undefined;
}

/**
 * HAProxy's answer to `a;b;c`, one answer per command: it ends each with an empty line, and a
 * non-empty answer is lines without an empty one among them (true of the server commands batched),
 * except `del server` (below). Anything else cannot be told apart reliably, and is an error.
 */
export function splitAnswers(text: string, commands: readonly string[]): Result<string[]> {
  const deletes = commands.filter((c) => DEL_SERVER.test(c)).length;
  if (deletes > 0) return deletes === commands.length ? oneLineEach(text, commands) : unsplit(text, commands);
  const answers: string[] = [];
  let i = 0;
  while (answers.length < commands.length && i < text.length) {
    if (text[i] === '\n') {
      answers.push('');
      i += 1;
      continue;
    }
    const end = text.indexOf('\n\n', i);
    if (end < 0) break;
    answers.push(text.slice(i, end + 1));
    i = end + 2;
  }
  return answers.length === commands.length && i === text.length ? ok(answers) : unsplit(text, commands);
}

/**
 * HAProxy 2.6 answers `del server` with one line and no empty line after it ("Server deleted.",
 * "No such server."), so a batch of them is read line by line (empty lines skipped, should a
 * release add them); mixed with other commands, the answers could not be told apart.
 */
const DEL_SERVER = /^(@\S+ )?del server /;

function oneLineEach(text: string, commands: readonly string[]): Result<string[]> {
  const lines = text.split('\n').filter((l) => l !== '');
  return lines.length === commands.length ? ok(lines.map((l) => `${l}\n`)) : unsplit(text, commands);
}

const unsplit = (text: string, commands: readonly string[]): Err<string> =>
  err(
    `HAProxy's answer to ${commands.length} commands (${commands[0]}; …) does not split into one answer each: ${JSON.stringify(text.slice(0, 200))}`,
  );

/** Longer commands are quoted in messages by their start. */
const QUOTED_MAX = 200;

/**
 * A command as a message quotes it: a batch (up to PER_EXCHANGE commands, ~20 KB) by its first
 * command and how many there are, so that a log line or the dashboard says what failed in a line.
 */
function quoted(command: string): string {
  if (command.length <= QUOTED_MAX) return `"${command}"`;
  const commands = command.split(';');
  const first = commands[0]!.length <= QUOTED_MAX ? commands[0]! : `${commands[0]!.slice(0, QUOTED_MAX)}…`;
  return commands.length === 1 ? `"${first}"` : `"${first};…" (${commands.length} commands)`;
}

/** Commands per exchange at most: a line of ~20 KB, answered in tens of ms (256 `add server`s: ~30 ms). */
export const PER_EXCHANGE = 256;

/** channel.sendAll where the channel has it (PER_EXCHANGE at a time), else each command on its own, in order. */
export async function sendAll(channel: CommandChannel, commands: readonly string[]): Promise<Result<string[]>> {
  const answers: string[] = [];
  const step = channel.sendAll === undefined ? 1 : PER_EXCHANGE;
  for (let i = 0; i < commands.length; i += step) {
    const r =
      channel.sendAll === undefined
        ? await channel.send(commands[i]!).then((a) => (a.ok ? ok([a.value]) : a))
        : await channel.sendAll(commands.slice(i, i + step));
    if (!r.ok) return r;
    answers.push(...r.value);
  }
  return ok(answers);
}

export interface ProcEntry {
  readonly pid: number;
  readonly type: string;
  /** Reloads this process has seen (0 for the newest worker; the master counts all reloads). */
  readonly reloads: number;
  /** Master only: failed reloads since the last successful one (`[failed: n]`). */
  readonly failedReloads?: number;
  readonly uptime: string;
  readonly version: string;
}

export interface ProcList {
  readonly master: ProcEntry;
  /** The current worker(s): serve new connections. */
  readonly workers: readonly ProcEntry[];
  /** Workers of earlier configs still finishing their connections. */
  readonly oldWorkers: readonly ProcEntry[];
  readonly programs: readonly ProcEntry[];
}

const PROC_LINE = /^(\d+)\s+(\S+)\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?\s+(\S+)\s*(\S*)/;

/** Parses the master CLI's `show proc` (HAProxy 2.x). */
export function parseShowProc(text: string): Result<ProcList> {
  let section: 'head' | 'workers' | 'old' | 'programs' = 'head';
  let master: ProcEntry | undefined;
  const workers: ProcEntry[] = [];
  const oldWorkers: ProcEntry[] = [];
  const programs: ProcEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (/^# workers/.test(line)) section = 'workers';
      else if (/^# old workers/.test(line)) section = 'old';
      else if (/^# (old )?programs/.test(line)) section = 'programs';
      continue;
    }
    const m = PROC_LINE.exec(line);
    if (!m) return err(`unexpected line in HAProxy's "show proc": ${line}`);
    const entry: ProcEntry = {
      pid: Number(m[1]),
      type: m[2] as string,
      reloads: Number(m[3]),
      ...(m[4] !== undefined ? { failedReloads: Number(m[4]) } : {}),
      uptime: m[5] as string,
      version: m[6] ?? '',
    };
    if (entry.type === 'master') master = entry;
    else if (section === 'workers') workers.push(entry);
    else if (section === 'old') oldWorkers.push(entry);
    else if (section === 'programs') programs.push(entry);
  }
  if (!master) return err(`HAProxy's "show proc" lists no master: ${JSON.stringify(text.slice(0, 200))}`);
  return ok({ master, workers, oldWorkers, programs });
}

/** The master CLI. */
export class MasterSocket {
  constructor(private readonly channel: CommandChannel) {}

  static at(path: string, timeoutMs: number, logger?: HaproxyLogger): MasterSocket {
    return new MasterSocket(new CliSocket({ path, timeoutMs, ...(logger ? { logger } : {}) }));
  }

  async showProc(): Promise<Result<ProcList>> {
    const answer = await this.channel.send('show proc');
    return answer.ok ? parseShowProc(answer.value) : answer;
  }

  /**
   * Asks the master to reload. HAProxy 2.6 answers nothing (the master re-executes itself);
   * newer versions answer `Success=0|1` with the startup log, which is honoured here.
   * Whether the new config loaded is seen in `show proc` afterwards (HaproxyProcess.reload).
   */
  async reload(): Promise<Result<string> | (Err<string> & { readonly refused: true })> {
    const answer = await this.channel.send('reload');
    if (answer.ok && /Success=0/.test(answer.value))
      return { ...err(`HAProxy refused the reload:\n${answer.value.trim()}`), refused: true };
    return answer;
  }

  /** Commands sent through this channel go to the current worker (`@1 …`) with the master's level. */
  worker(): CommandChannel {
    const channel = this.channel;
    const stream = channel.stream?.bind(channel);
    const many = channel.sendAll?.bind(channel);
    return {
      send: (command) => channel.send(`@1 ${command}`),
      ...(many === undefined ? {} : { sendAll: (commands) => many(commands.map((c) => `@1 ${c}`)) }),
      ...(stream === undefined ? {} : { stream: (command, onText) => stream(`@1 ${command}`, onText) }),
    };
  }
}
