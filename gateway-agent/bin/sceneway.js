#!/usr/bin/env node
// The `sceneway` command. Sceneway runs its TypeScript through tsx (no build step to forget on a box);
// registering it here keeps the bin working from any working directory.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
