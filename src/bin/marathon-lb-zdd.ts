#!/usr/bin/env node
import { runZddCommand } from '../zdd/cli';
import { hideSecretArguments } from '../cli/hiddenSecrets';

hideSecretArguments('marathon-lb-zdd', process.argv.slice(2));

// The same as `marathon-lb zdd …`, under the name scripts that called zdd.py can use.
runZddCommand(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`marathon-lb-zdd: unexpected error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
