import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderTelemetryDoc } from './telemetry-doc.ts';

describe('docs/telemetry.md', () => {
  it('is what the generator writes from the payload schemas (run `npm run docs:telemetry`)', () => {
    const doc = readFileSync(new URL('../../../docs/telemetry.md', import.meta.url), 'utf8');
    expect(doc === renderTelemetryDoc(), 'docs/telemetry.md is stale: run `npm run docs:telemetry`').toBe(
      true,
    );
  });
});
