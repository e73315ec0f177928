/**
 * Test support for suites that drive a real headless Chromium through playwright-core.
 *
 * - findChromium(): the binary ($CHROMIUM_BIN, else chromium on PATH, /usr/bin/chromium, …). It is
 *   never downloaded: playwright-core only drives the browser the system has.
 * - describeWithChromium(): runs the suite when Chromium is there; fails under CI; skips loudly on a
 *   developer box without it (like describeWithHaproxy).
 * - launchChromium(): a headless browser with a fresh profile directory, removed by close().
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { describeWithTool, type RequiredTool } from './requiredTool';

export interface ChromiumInfo {
  readonly bin: string;
  readonly version: string;
}

const CANDIDATES = ['chromium', '/usr/bin/chromium', 'chromium-browser', '/usr/bin/chromium-browser'];

/** `bin` itself when it is a path, else the first executable of that name on $PATH. */
function resolve(bin: string): string | undefined {
  const candidates = bin.includes('/')
    ? [bin]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, bin));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function probe(name: string): ChromiumInfo | undefined {
  const bin = resolve(name);
  if (bin === undefined) return undefined;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10000 });
  if (r.error || r.status !== 0) return undefined;
  const m = /Chrom(?:e|ium)\s+([\d.]+)/.exec(`${r.stdout}${r.stderr}`);
  return m ? { bin, version: m[1] as string } : undefined;
}

/** The Chromium to test with. An explicit $CHROMIUM_BIN is the only one tried when it is set. */
function findChromium(): ChromiumInfo | undefined {
  const explicit = process.env.CHROMIUM_BIN;
  if (explicit) return probe(explicit);
  for (const bin of CANDIDATES) {
    const found = probe(bin);
    if (found) return found;
  }
  return undefined;
}

const CHROMIUM: RequiredTool<ChromiumInfo> = {
  tool: 'chromium',
  aptPackage: 'chromium',
  envVar: 'CHROMIUM_BIN',
  find: findChromium,
};

/**
 * describe() for suites that need chromium. `fn` gets the binary found. Without it the suite fails
 * when $CI is set (and not "false"/"0"), else it is skipped with a console warning.
 */
export function describeWithChromium(name: string, fn: (browser: ChromiumInfo) => void): void {
  describeWithTool(CHROMIUM, name, fn);
}

export interface RunningBrowser {
  readonly context: BrowserContext;
  /** Closes the browser and removes its profile directory. Idempotent. */
  close(): Promise<void>;
}

/** Flags for a quiet, sandbox-free headless run that talks to nothing but the pages it is sent to. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts headless Chromium with a fresh --user-data-dir (a new temp dir). */
export async function launchChromium(
  info: ChromiumInfo,
  viewport = { width: 1280, height: 900 },
): Promise<RunningBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'mlb-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: info.bin,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      timeout: 30000,
      env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    context,
    close: () =>
      (closing ??= (async () => {
        await context.close().catch(() => undefined);
        await rm(profile, { recursive: true, force: true });
      })()),
  };
}

/**
 * A new page of `browser` that may talk to `origin` only (no CDN, no fonts, no telemetry): anything
 * else is aborted and, like any script error on the page, recorded in `problems`.
 */
export async function confinedPage(
  browser: RunningBrowser,
  origin: string,
): Promise<{ page: Page; problems: string[] }> {
  const problems: string[] = [];
  await browser.context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    problems.push(`request outside the admin server: ${url}`);
    return route.abort();
  });
  const page = await browser.context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { page, problems };
}
