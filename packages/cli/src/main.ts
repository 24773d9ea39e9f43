#!/usr/bin/env node
// Entry point of the `heapdump` command: one clear line and exit status 2 for bad usage, never a stack trace.
import { CommanderError } from 'commander';
import { DataError, StoreError, UsageError } from './errors.ts';
import { buildProgram } from './program.ts';

// `heapdump list | head -3`: the reader is gone; stop quietly, as tools in a pipe do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

const program = buildProgram({
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  setExit: (code) => {
    process.exitCode = code;
  },
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander has printed the message or the help already
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof UsageError) {
    process.stderr.write(`heapdump: ${err.message}\n`);
    process.exitCode = 2;
  } else if (err instanceof StoreError || err instanceof DataError) {
    process.stderr.write(`heapdump: ${err.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`heapdump: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
