#!/usr/bin/env node
// `virtrigaud` from a checkout (package.json "bin"): loads tsx from this package, then the CLI.
// The image runs the bundled dist/virtrigaud.mjs instead (Dockerfile). No top-level await: the
// long-running commands never settle `run`; they exit by themselves.
import { register } from 'tsx/esm/api';

register();
import('./virtrigaud.ts').then(({ run }) => run(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
}, (err) => {
  process.stderr.write(`virtrigaud failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
