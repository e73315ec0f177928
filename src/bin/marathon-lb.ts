#!/usr/bin/env node
import { parseArgs, parseCheckLabelsArgs, unknownSettings } from '../cli/args';
import { runDryProcess } from '../dry';
import { drySettings } from '../wiring/parts';
import { allowOptimizingCompiler, holdOptimizingCompiler } from '../optimizingCompiler';
import { keepYoungGenerationSmall, letYoungGenerationGrow } from '../youngGeneration';
import { hideSecretArguments } from '../cli/hiddenSecrets';

hideSecretArguments('marathon-lb', process.argv.slice(2));

// Before anything grows hot or big: a small --dry never needs optimized code (optimizingCompiler.ts),
// nor a --dry a young generation grown for a long run (youngGeneration.ts).
holdOptimizingCompiler();
keepYoungGenerationSmall();

/** V8 as it would be for zdd, check-labels and the controller. */
function settleForLongRun(): void {
  allowOptimizingCompiler();
  letYoungGenerationGrow();
}

// A reader that stops early (`marathon-lb --dry | head`) is not an error of this command: what it
// writes to files is written before its output, and the rest of the output has no one to read it.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') return;
  process.stderr.write(`marathon-lb: cannot write standard output: ${e.code ?? e.message}\n`);
  process.exitCode = 1;
});

// The service and zdd are imported lazily: `--dry` loads only the render path (no rxjs, winston,
// prom-client, service code). The build bundles this file with what it imports at once (bundle.ts).

async function run(): Promise<number> {
  // Subcommands come first, as words (never flags, so argparse-style prefixes do not touch them).
  if (process.argv[2] === 'zdd') {
    settleForLongRun();
    return (await import('../zdd/cli')).runZddCommand(process.argv.slice(3), process.env);
  }
  if (process.argv[2] === 'check-labels') {
    settleForLongRun(); // it reads a whole Marathon
    const args = parseCheckLabelsArgs(process.argv.slice(3), process.env);
    if (!args.ok) {
      if (args.error.kind === 'help') {
        process.stdout.write(args.error.text);
        return 0;
      }
      process.stderr.write(`marathon-lb check-labels: ${args.error.message}\n`);
      return 2;
    }
    return (await import('../main')).runCheckLabelsCommand(args.value, process.env);
  }
  const parsed = parseArgs(process.argv.slice(2), process.env);
  if (!parsed.ok) {
    if (parsed.error.kind === 'help') {
      process.stdout.write(parsed.error.text);
      return 0;
    }
    process.stderr.write(`marathon-lb: ${parsed.error.message}\n`);
    return 2;
  }
  const options = parsed.value;
  if (options.dry) {
    for (const line of unknownSettings(process.env)) process.stderr.write(`marathon-lb: warning: ${line}\n`);
    return runDryProcess(drySettings(options, process.env), process.env);
  }
  settleForLongRun(); // the controller
  return (await import('../main')).main(options, process.env);
}

run().then(
  (code) => {
    // A failed write to standard output (its handler above) has set 1: it stands over the command's own.
    process.exitCode = process.exitCode || code;
  },
  (e: unknown) => {
    process.stderr.write(`marathon-lb: unexpected error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
