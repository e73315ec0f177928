import type * as ChildProcess from 'node:child_process';
import { lazyBuiltin } from '../lazyBuiltin';
import { environmentWithoutSecrets } from './env';

const childProcess = lazyBuiltin<typeof ChildProcess>('node:child_process');

/** The HAProxy release a config is written for: only major.minor decides which directives exist. */
export interface HaproxyVersion {
  readonly major: number;
  readonly minor: number;
}

/** What is assumed when --haproxy-version is not given and --haproxy-bin cannot say (Debian bookworm's). */
const DEFAULT_HAPROXY_VERSION: HaproxyVersion = Object.freeze({ major: 2, minor: 6 });

/** `MAJOR.MINOR` (a patch level is accepted and ignored), or undefined when the text is not one. */
export function parseHaproxyVersion(text: string): HaproxyVersion | undefined {
  const m = /^\s*(\d{1,3})\.(\d{1,3})(?:\.\d+)?\S*\s*$/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

/** The version `haproxy -v` reports ("HAProxy version 2.6.12-1+deb12u4 …", "HA-Proxy version 2.0.33 …"). */
export function versionFromBanner(banner: string): HaproxyVersion | undefined {
  const m = /HA-?Proxy version (\d+)\.(\d+)/i.exec(banner);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

/** HAProxy 2.1 removed reqadd/rspadd/reqrep/… ; from then on this program translates them. */
export function removedLegacyDirectives(v: HaproxyVersion): boolean {
  return v.major > 2 || (v.major === 2 && v.minor >= 1);
}

export const formatVersion = (v: HaproxyVersion): string => `${v.major}.${v.minor}`;

const detected = new Map<string, HaproxyVersion | undefined>();

/** Runs `<bin> -v` once per binary (cached for the process); undefined when it does not run or say. */
export function detectHaproxyVersion(bin: string): HaproxyVersion | undefined {
  if (detected.has(bin)) return detected.get(bin);
  let banner: string | undefined;
  try {
    banner = childProcess().execFileSync(bin, ['-v'], {
      env: environmentWithoutSecrets(), // a wrapper script gets no more secrets than HAProxy (env.ts)
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch {
    banner = undefined; // not installed or not runnable: the default applies
  }
  return remember(bin, banner);
}

/** Runs of `<bin> -v` not answered yet: a second ask waits for the same run. */
const detecting = new Map<string, Promise<HaproxyVersion | undefined>>();

/** detectHaproxyVersion without waiting: `<bin> -v` runs beside whatever the caller does next. */
export function detectHaproxyVersionSoon(bin: string): Promise<HaproxyVersion | undefined> {
  if (detected.has(bin)) return Promise.resolve(detected.get(bin));
  let running = detecting.get(bin);
  if (running === undefined) {
    running = new Promise((resolve) => {
      childProcess()
        .execFile(
          bin,
          ['-v'],
          { env: environmentWithoutSecrets(), encoding: 'utf8', timeout: 5000 },
          (error, stdout) => {
            detecting.delete(bin);
            resolve(remember(bin, error === null ? stdout : undefined));
          },
        )
        .stdin?.end();
    });
    detecting.set(bin, running);
  }
  return running;
}

function remember(bin: string, banner: string | undefined): HaproxyVersion | undefined {
  const v = banner === undefined ? undefined : versionFromBanner(banner);
  detected.set(bin, v);
  return v;
}

/**
 * --haproxy-version when given (already checked by the argument parser), else the version of
 * --haproxy-bin when it runs, else 2.6.
 */
export function resolveHaproxyVersion(
  flag: string | undefined,
  bin: string,
  detect: (bin: string) => HaproxyVersion | undefined = detectHaproxyVersion,
): HaproxyVersion {
  const given = flag === undefined ? undefined : parseHaproxyVersion(flag);
  return given ?? detect(bin) ?? DEFAULT_HAPROXY_VERSION;
}

/** For the start-up log: which HAProxy the config is written for, where that came from, and what follows. */
export function describeTarget(
  flag: string | undefined,
  bin: string,
  detect: (bin: string) => HaproxyVersion | undefined = detectHaproxyVersion,
): string {
  const v = resolveHaproxyVersion(flag, bin, detect);
  const from =
    flag !== undefined
      ? '--haproxy-version'
      : detect(bin) !== undefined
        ? `${bin} -v`
        : 'the default; --haproxy-bin did not say';
  const what = removedLegacyDirectives(v)
    ? 'directives it removed in 2.1 (reqadd, rspadd, reqrep, …) are translated'
    : "marathon-lb's text is written as is";
  return `writing the config for HAProxy ${formatVersion(v)} (${from}): ${what}`;
}
