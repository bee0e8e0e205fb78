#!/usr/bin/env node
// The `sceneway-bank` command (the reference bank). It runs the bundle that `npm install` builds
// (cloud-sync/build.mjs), like `sceneway`; without a bundle (a checkout before `npm run build`) it
// runs the TypeScript through tsx instead, a dev dependency: slower but the same code.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/sceneway-bank.mjs', import.meta.url);
let main;
if (existsSync(bundle)) {
  ({ main } = await import(bundle.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/bank/cli.ts'));
}
await main(process.argv);
