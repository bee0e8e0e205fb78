#!/usr/bin/env node
// Runs the TypeScript CLI through tsx without a build step. Registering tsx from here (instead of a
// `node --import tsx` shebang) resolves tsx relative to this package, so it works from any cwd.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/bank/cli.ts');
await main(process.argv);
