import { writeFileSync } from 'node:fs';
import { renderTelemetryDoc } from './telemetry-doc.ts';

const path = new URL('../../../docs/telemetry.md', import.meta.url);
writeFileSync(path, renderTelemetryDoc());
console.log(`wrote ${path.pathname}`);
