#!/usr/bin/env node
import { parseArgs } from '../cli/args';
import { main } from '../main';

async function run(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`marathon-lb: ${parsed.message}\n`);
    return 2;
  }
  return main(parsed.options, process.env);
}

run().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`marathon-lb: unexpected error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
