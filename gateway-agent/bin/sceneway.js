#!/usr/bin/env node
// The `sceneway` command. It runs the bundle that `npm install` builds (gateway-agent/build.mjs), which
// starts fast on a box; without a bundle (a checkout before `npm run build`) it runs the TypeScript
// through tsx instead, slower but the same code.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/sceneway.mjs', import.meta.url);
let main;
if (existsSync(bundle)) {
  ({ main } = await import(bundle.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
