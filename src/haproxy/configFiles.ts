/**
 * The files HAProxy reads for a desired state — haproxy.cfg (as liveConfig makes it) and the two map
 * files beside it — checked as candidates, written atomically, read back to restore.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { RenderedConfig } from '../render/render';
import type { DesiredState } from '../reconcile/applyPort';
import {
  liveConfig,
  runtimeDirs,
  serverLinesByBackend,
  serverStateFile,
  withPaths,
  type LiveConfigOptions,
} from './configText';
import { ARCHIVE_DIR, archiveApplied, archiveRejected, readIfExists, writeAtomic } from './files';
import type { Verdict } from './isolate';
import type { HaproxyLogger } from './masterSocket';
import { proxiesNamed, type CheckFailure } from './validate';
import { err, mapErr, ok, type Result } from '../result';
import { ensureDirectory } from '../ensureDirectory';

export interface Files {
  readonly config: string;
  readonly domainMap: string;
  readonly appMap: string;
}

export interface ConfigFilesOptions {
  readonly configPath: string;
  readonly haproxyMap: boolean;
  /** --archive-versions: copies kept as marathon-lb keeps them (see files.ts archiveApplied). */
  readonly archiveVersions: number;
  /** Where the archives go; marathon-lb's /tmp by default. */
  readonly archiveDir?: string;
  readonly live: LiveConfigOptions;
  /** `haproxy -c -f <path>`; absent with --skip-validation. */
  readonly validate: ((configPath: string) => Promise<Result<void, CheckFailure>>) | null;
  readonly logger: HaproxyLogger;
  /** Told when files written behind a runtime change could not be written (writeUnwritten tries again). */
  readonly onUnwritten?: () => void;
}

export class ConfigFiles {
  private readonly maps: { readonly domain: string; readonly app: string };
  private readonly made = new WeakMap<RenderedConfig, Files>();
  /** The state each Files of `of` was made for, to tell which state's files are on disk. */
  private readonly madeFor = new WeakMap<Files, DesiredState>();
  /**
   * The files last written, undefined before any. A failed write leaves the config as it was (written
   * atomically), so its servers are still those of these (the maps may be newer).
   */
  private lastWritten: Files | undefined;
  private archiving: Promise<void> = Promise.resolve();
  /** Files written behind a runtime-only change; every other file operation here waits for them. */
  private behind: Promise<void> = Promise.resolve();
  /** Set once the controller has stopped: nothing is written after (the demo then removes the directory). */
  private closed = false;
  /**
   * Files HAProxy runs (through its runtime API) that writing behind failed to put on disk: the file
   * there is older, and a reload would read it. Kept until a write succeeds.
   */
  private unwritten: Files | null = null;

  constructor(private readonly o: ConfigFilesOptions) {
    const dir = path.dirname(o.configPath);
    this.maps = { domain: path.join(dir, 'domain2backend.map'), app: path.join(dir, 'app2backend.map') };
  }

  get configPath(): string {
    return this.o.configPath;
  }

  /** The files HAProxy reads: the config and the two maps. */
  get paths(): readonly string[] {
    return [this.o.configPath, this.maps.domain, this.maps.app];
  }

  /** Whether `files` are what is on disk now (once the files written behind are written). */
  async hold(files: Files): Promise<boolean> {
    await this.behind;
    return this.lastWritten === files && this.unwritten === null;
  }

  /** What HAProxy should read for `state` (once per rendered config: liveConfig reads all of its text). */
  of(state: DesiredState): Files {
    const known = this.made.get(state.rendered);
    if (known !== undefined) return known;
    const map = this.o.haproxyMap;
    const files = {
      config: liveConfig(state.rendered.config, this.o.live),
      domainMap: map ? state.rendered.domainMap : '',
      appMap: map ? state.rendered.appMap : '',
    };
    this.made.set(state.rendered, files);
    this.madeFor.set(files, state);
    return files;
  }

  /** `haproxy -c` on a temp copy whose map paths point at temp maps too (upstream did the same). */
  async check(files: Files): Promise<Verdict> {
    const validate = this.o.validate;
    if (validate === null) return ok(undefined);
    const tmp = `${this.o.configPath}.candidate`;
    const candidates = [
      [this.maps.domain, `${this.maps.domain}.candidate`],
      [this.maps.app, `${this.maps.app}.candidate`],
    ] as const;
    let text = files.config;
    this.ensureOpen();
    this.ensureDir();
    // Every candidate is removed whatever fails: maps left by a config that could not be written (a
    // full disk) took the room the next try needed (helper 72).
    try {
      if (this.o.haproxyMap) {
        await writeAtomic(candidates[0][1], files.domainMap);
        await writeAtomic(candidates[1][1], files.appMap);
        text = withPaths(text, candidates);
      }
      await writeAtomic(tmp, text);
      const v = await validate(tmp);
      return mapErr(v, (f) =>
        f.refused
          ? { message: f.message, named: proxiesNamed(f.message, text) }
          : { message: f.message, unchecked: true, ...(f.hung === true ? { hung: true } : {}) },
      );
    } finally {
      // Not a directory that happens to be there (rm refuses it): the error thrown above is the one to tell.
      for (const f of [tmp, candidates[0][1], candidates[1][1]]) await fs.rm(f, { force: true }).catch(() => undefined);
    }
  }

  /** The config's directory, made again when it was removed while the controller ran; writing it says what failed. */
  private ensureDir(): void {
    try {
      ensureDirectory(path.dirname(this.o.configPath));
    } catch {
      // writeAtomic names the file and the reason
    }
  }

  /** `haproxy -c` of the config on disk as it is (SIGUSR1), telling a refusal from a check that did not run. */
  async checkOnDisk(): Promise<Result<void, CheckFailure>> {
    await this.behind;
    // HAProxy reads a directory given to -f as the files in it, and said only its usage for this one.
    const isDirectory = await fs.stat(this.o.configPath).then(
      (st) => st.isDirectory(),
      () => false,
    );
    if (isDirectory)
      return err({
        message: `${this.o.configPath} is a directory, not HAProxy's config file: remove it`,
        refused: false,
      });
    return this.o.validate === null ? ok(undefined) : this.o.validate(this.o.configPath);
  }

  /** A config `haproxy -c` rejected is kept as marathon-lb keeps it (haproxy_temp_config_fail.<k>). */
  async archiveRejected(files: Files): Promise<void> {
    if (this.o.archiveVersions <= 0) return;
    await archiveRejected(files.config, this.o.archiveVersions, this.o.archiveDir ?? ARCHIVE_DIR).catch((e: Error) =>
      this.o.logger.warn(e.message),
    );
  }

  /**
   * Writes the files without holding the caller: for a change HAProxy already runs through its
   * runtime API, the files are for its next reload. (At 10 000 apps writing and syncing the 10 MB
   * config held the apply for 100–300 ms, and the task events behind it.) Whatever reads or writes
   * files here next waits for it. A failure is kept and told (onUnwritten): logged only, the file
   * stayed older than what HAProxy ran for good, and a SIGUSR1 reloaded it (helper 72).
   */
  writeBehind(files: Files): void {
    this.behind = this.behind
      .then(() => this.writeNow(files, true))
      .catch((e: Error) => {
        this.o.logger.warn(`${e.message}; HAProxy runs the new servers, the file is written again until it succeeds`);
        this.oweWrite(files);
      });
  }

  /** `files` are what HAProxy runs but could not be written: kept for writeUnwritten, and told (onUnwritten). */
  oweWrite(files: Files): void {
    this.unwritten = files;
    this.o.onUnwritten?.();
  }

  /** Writes the files writing behind could not write; false when there were none. Throws what the write throws. */
  async writeUnwritten(): Promise<boolean> {
    await this.behind;
    const files = this.unwritten;
    if (files === null) return false;
    await this.writeNow(files, true);
    return true;
  }

  /** The state whose files were written last, when they came from `of` (a restore of files read back did not). */
  writtenState(): DesiredState | undefined {
    return this.lastWritten === undefined ? undefined : this.madeFor.get(this.lastWritten);
  }

  /** Settles once the files written behind are on disk. */
  written(): Promise<void> {
    return this.behind;
  }

  /** `archive`: the version put in place is archived (not trial configs, not a restore). */
  async write(files: Files, archive = true): Promise<void> {
    await this.behind;
    await this.writeNow(files, archive);
  }

  /** No file is written once the controller has stopped. */
  close(): void {
    this.closed = true;
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error(`the controller has stopped: ${this.o.configPath} is left as it is`);
  }

  private async writeNow(files: Files, archive: boolean): Promise<void> {
    this.ensureOpen();
    this.ensureDir();
    if (this.o.haproxyMap) {
      await writeAtomic(this.maps.domain, files.domainMap);
      await writeAtomic(this.maps.app, files.appMap);
    } else {
      // Without --haproxy-map, marathon-lb truncates map files left from an earlier run.
      for (const p of [this.maps.domain, this.maps.app])
        if ((await readIfExists(p)) !== undefined) await writeAtomic(p, '');
    }
    await writeAtomic(this.o.configPath, files.config);
    this.unwritten = null; // what is on disk now is what the apply writing it goes on with
    this.lastWritten = files;
    if (archive && this.o.archiveVersions > 0) {
      const maps = this.o.haproxyMap ? { domain: files.domainMap, app: files.appMap } : undefined;
      const copy = { config: files.config, ...(maps ? { maps } : {}) };
      // A history for people, written behind the apply (one at a time, in order): the next change
      // need not wait for it. A full /tmp must not cost the apply either.
      this.archiving = this.archiving
        .then(() => archiveApplied(copy, this.o.archiveVersions, this.o.archiveDir ?? ARCHIVE_DIR))
        .catch((e: Error) => this.o.logger.warn(e.message));
    }
  }

  /** The files as they are now, to put back if the transaction fails; null when there is no config yet. */
  async onDisk(): Promise<Files | null> {
    await this.behind;
    const config = await readIfExists(this.o.configPath);
    if (config === undefined) return null;
    return {
      config,
      domainMap: (await readIfExists(this.maps.domain)) ?? '',
      appMap: (await readIfExists(this.maps.app)) ?? '',
    };
  }

  /**
   * Creates the directories HAProxy needs before it starts (its runtime files' and those the config
   * names), instead of failing on them; what cannot be created is logged, HAProxy then says why.
   */
  async ensureRuntimeDirs(runtimeFiles: readonly string[]): Promise<void> {
    await this.behind;
    const config = (await readIfExists(this.o.configPath)) ?? '';
    for (const dir of [...runtimeDirs(config), ...runtimeFiles.map((f) => path.dirname(f))]) {
      try {
        ensureDirectory(dir);
      } catch (e) {
        this.o.logger.warn(
          `cannot create ${dir} for HAProxy: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        );
      }
    }
  }

  /**
   * marathon-lb's head says `server-state-file global` + `load-server-state-from-file global`: the
   * servers' state (`show servers state`) is saved before a reload so the new worker starts with it
   * (health, drain, weights). '' when HAProxy is started: it starts with no saved state. A file a
   * stopped or crashed HAProxy left holds the states of its last reload, not those it ended with: a
   * server set ready through the runtime API since came back in MAINT, and its backend answered 503
   * (found by an operator test).
   */
  async saveServerState(dump: string): Promise<void> {
    const config = (await readIfExists(this.o.configPath)) ?? '';
    const file = serverStateFile(config);
    if (file === undefined) return;
    try {
      // "1" alone is the state file format's version line: a valid file that lists no servers yet.
      await writeAtomic(file, dump.trim() === '' ? '1\n' : ofServersIn(dump, config));
    } catch (e) {
      this.o.logger.warn(`cannot save server state before reload: ${(e as Error).message}`);
    }
  }
}

/**
 * The dump's lines of servers the config (the one about to be read) still has. A server a change
 * removes can be in drain when the state is saved (its requests outlasted the wait, so the change
 * went by a reload): kept in the file, a server of the same name later (its task back, or a new
 * task on that host and port) started drained, after a reload or a restart, and stayed so.
 */
function ofServersIn(dump: string, config: string): string {
  const servers = serverLinesByBackend(config);
  return dump
    .split('\n')
    .filter((line) => {
      if (!/^\d+ /.test(line)) return true; // the version line ("1"), the header, the end
      const [, backend, , name] = line.split(' ');
      return backend !== undefined && name !== undefined && servers.get(backend)?.has(name) === true;
    })
    .join('\n');
}
