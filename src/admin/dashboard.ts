import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { err, ok, type Result } from '../result';
import { pageCsp } from './dashboardPage';

/**
 * The admin dashboard: one self-contained page (no external assets) built from src/dashboard by
 * `npm run build` into dist/dashboard/index.html. It polls `./status` every 2 s; it carries no data
 * and no secret (the token stays in `#token=…`). Read once, on the first request.
 */
export type DashboardPage = Result<{ readonly html: string; readonly csp: string }>;

/** From dist/src/admin (the built service) or src/admin (ts-jest): the built page is dist/dashboard/index.html. */
const CANDIDATES = [
  path.join(__dirname, '..', '..', 'dashboard', 'index.html'),
  path.join(__dirname, '..', '..', 'dist', 'dashboard', 'index.html'),
];

function loadDashboard(candidates: readonly string[] = CANDIDATES): DashboardPage {
  for (const file of candidates) {
    let html: string;
    try {
      html = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const csp = pageCsp(html);
    return csp.ok ? ok({ html, csp: csp.value }) : err(`${file}: ${csp.error}`);
  }
  return err(`the dashboard is not built (no ${candidates.join(' or ')}): run npm run build`);
}

let cached: DashboardPage | undefined;

/** The page served at `GET /`, read on first use (a failed read is retried on the next request). */
export function dashboardPage(): DashboardPage {
  if (cached?.ok) return cached;
  cached = loadDashboard();
  return cached;
}
