import { writeFileSync } from 'node:fs';
import { CONFIG_REFERENCE_FILE, renderConfigReference } from './config-reference.ts';

// `npm run docs:config`: regenerates docs/configuration.md from the schemas.
writeFileSync(CONFIG_REFERENCE_FILE, renderConfigReference());
process.stdout.write(`wrote ${CONFIG_REFERENCE_FILE}\n`);
