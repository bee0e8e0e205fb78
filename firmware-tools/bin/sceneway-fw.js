#!/usr/bin/env node
// The `sceneway-fw` command (vendor and installer firmware tool). It runs the TypeScript through tsx,
// like `sceneway-fleet`: a firmware-tools bundle is for a later build step.
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
