/** npm run bench:gen -- --apps 5000 --tasks 3 --seed 1 > apps.json: writes a generated apps body. */
import { generateApps } from './genApps';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`npm run bench:gen -- [--apps N] [--tasks N] [--seed N] > apps.json
  Writes a generated /v2/apps?embed=apps.tasks body (the bench mix) to standard output.
  --apps N    apps (default 5000)
  --tasks N   tasks per app (default 3)
  --seed N    random seed (default 1): the same seed gives the same file`);
  process.exit(0);
}
const arg = (flag: string, dflt: number): number => {
  const i = process.argv.indexOf(flag);
  if (i < 0) return dflt;
  const text = process.argv[i + 1] ?? '';
  if (!/^\d+$/.test(text)) {
    console.error(`bench:gen: ${flag} expects a whole number, got '${text}'`);
    process.exit(2);
  }
  return Number(text);
};
process.stdout.write(
  JSON.stringify(generateApps({ apps: arg('--apps', 5000), tasksPerApp: arg('--tasks', 3), seed: arg('--seed', 1) })),
);
