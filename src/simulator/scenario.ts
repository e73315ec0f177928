import { readFileSync } from 'node:fs';
import { err, ok, type Result } from '../result';

/**
 * Scenario files (config/scenarios/*.json):
 * {
 *   "name": "demo", "description": "…",
 *   "serveTasks": true,                       // optional default for --serve-tasks
 *   "apps": [ <Marathon app JSON>, … ],        // created at start, in order
 *   "timeline": [ {"atMs": 5000, "scale": {"app": "/web", "instances": 3}}, … ],
 *   "repeatEveryMs": 60000                     // optional: replay the timeline every N ms
 * }
 * A step has `atMs` (from start, or from the start of each repetition) and exactly one action — see STEP_KINDS.
 * A task is named by `"task": "<id>"` or by `"app"` + `"index"` (position in the app's task list, -1 = last).
 */
export interface Scenario {
  readonly name: string;
  readonly description?: string;
  readonly serveTasks?: boolean;
  readonly apps: readonly Record<string, unknown>[];
  readonly timeline: readonly Step[];
  readonly repeatEveryMs?: number;
}

export const STEP_KINDS = [
  'scale',
  'createApp',
  'updateApp',
  'deleteApp',
  'labels',
  'kill',
  'health',
  'taskState',
  'burst',
  'fault',
  'clearFaults',
  'expireTokens',
  'leader',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export interface Step {
  readonly atMs: number;
  readonly kind: StepKind;
  /** The action's argument as written in the file (checked when the step runs). */
  readonly arg: unknown;
}

export type ScenarioResult = Result<Scenario>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseScenario(raw: unknown, source: string): ScenarioResult {
  const bad = (msg: string): ScenarioResult => err(`scenario ${source}: ${msg}`);
  if (!isObject(raw)) return bad('must be a JSON object with "apps" (and optionally "timeline")');
  const apps = raw['apps'] ?? [];
  if (!Array.isArray(apps) || !apps.every(isObject)) return bad('"apps" must be an array of Marathon app objects');
  const missingId = apps.findIndex((a) => typeof a['id'] !== 'string');
  if (missingId >= 0) return bad(`apps[${missingId}] needs a string "id"`);
  const rawTimeline = raw['timeline'] ?? [];
  if (!Array.isArray(rawTimeline)) return bad('"timeline" must be an array of steps');
  const timeline: Step[] = [];
  for (let i = 0; i < rawTimeline.length; i++) {
    const s: unknown = rawTimeline[i];
    if (!isObject(s)) return bad(`timeline[${i}] must be an object`);
    const atMs = s['atMs'];
    if (typeof atMs !== 'number' || !Number.isFinite(atMs) || atMs < 0)
      return bad(`timeline[${i}].atMs must be a number ≥ 0`);
    const kinds = Object.keys(s).filter((k) => k !== 'atMs' && k !== 'comment');
    if (kinds.length !== 1 || !(STEP_KINDS as readonly string[]).includes(kinds[0])) {
      return bad(
        `timeline[${i}] needs exactly one action of ${STEP_KINDS.join(', ')} (got ${kinds.join(', ') || 'none'})`,
      );
    }
    timeline.push({ atMs, kind: kinds[0] as StepKind, arg: s[kinds[0]] });
  }
  timeline.sort((a, b) => a.atMs - b.atMs);
  const repeat = raw['repeatEveryMs'];
  const last = timeline.length > 0 ? timeline[timeline.length - 1].atMs : 0;
  if (repeat !== undefined && (typeof repeat !== 'number' || !(repeat > last) || repeat < 100)) {
    return bad(`"repeatEveryMs" must be a number ≥ 100 and greater than the last step's atMs (${last})`);
  }
  const serveTasks = raw['serveTasks'];
  if (serveTasks !== undefined && typeof serveTasks !== 'boolean') return bad('"serveTasks" must be true or false');
  return ok({
    name: typeof raw['name'] === 'string' ? raw['name'] : source,
    ...(typeof raw['description'] === 'string' ? { description: raw['description'] } : {}),
    ...(serveTasks !== undefined ? { serveTasks } : {}),
    apps,
    timeline,
    ...(repeat !== undefined ? { repeatEveryMs: repeat as number } : {}),
  });
}

/** Reads and checks a scenario file; errors name the file. */
export function loadScenario(file: string): ScenarioResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return err(`scenario ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return parseScenario(JSON.parse(text) as unknown, file);
  } catch (e) {
    return err(`scenario ${file}: not valid JSON (${(e as Error).message})`);
  }
}
