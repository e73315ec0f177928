/** npm run bench:gen -- --apps 5000 --tasks 3 --seed 1 > apps.json: writes a generated apps body. */
import { generateApps } from './genApps';

const arg = (flag: string, dflt: number): number => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
process.stdout.write(
  JSON.stringify(generateApps({ apps: arg('--apps', 5000), tasksPerApp: arg('--tasks', 3), seed: arg('--seed', 1) })),
);
