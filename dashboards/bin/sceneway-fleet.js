#!/usr/bin/env node
// The `sceneway-fleet` command (the fleet server). It runs the TypeScript through tsx, like
// `sceneway-bank` without its bundle: a dashboards bundle is for a later build step.
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/fleet-server/cli.ts');
await main(process.argv);
