import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONFIG_REFERENCE_FILE, renderConfigReference } from './config-reference.ts';

describe('docs/configuration.md', () => {
  it('is what the generator writes from the schemas (run `npm run docs:config` after a schema change)', () => {
    const committed = readFileSync(CONFIG_REFERENCE_FILE, 'utf8');
    const generated = renderConfigReference();
    // One readable line instead of a 300-line diff: the fix is always the same command.
    if (committed !== generated) {
      expect.fail('docs/configuration.md is stale: run `npm run docs:config` and commit the result');
    }
  });

  it('documents each field with its type, allowed values and default, and a section per driver', () => {
    const page = renderConfigReference();
    expect(page).toMatch(
      /^\| `scenarios\.canteen\.limits\.perTransactionLimitFen` +\| integer, ≥ 0 +\| `50000` +\| .+fen/m,
    );
    expect(page).toMatch(
      /^\| `log\.level` +\| one of `fatal`, `error`, `warn`, `info`, `debug`, `trace` +\| `"info"`/m,
    );
    expect(page).toMatch(/^\| `bank\.url` +\| URL +\| \*\*required\*\* +\|/m);
    expect(page).toMatch(/^\| `ledger\.path` .+config file's folder\. +\|$/m);
    expect(page).toMatch(/^### Driver `canteen-pos`$/m);
    expect(page).toMatch(/^\| `config\.terminals\[\]\.address` +\| integer, 1–247 +\| `1` +\|/m);
    expect(page).toMatch(/^### Driver `hid-reader`$/m);
  });

  it('grows a section for a driver added to the registry, from its schema alone', () => {
    const fixture = {
      id: 'fixture-gate',
      apiVersion: 2 as const,
      configSchema: z
        .strictObject({ lane: z.number().int().min(1).max(8).describe('Lane the gate controls.') })
        .describe('A gate controller.'),
      emits: [],
      terminalIds: () => [],
      create: () => ({ start: async () => {}, stop: async () => {} }),
    };
    const page = renderConfigReference([fixture]);
    expect(page).toMatch(/^### Driver `fixture-gate`\n\nA gate controller\.$/m);
    expect(page).toMatch(
      /^\| `config\.lane` +\| integer, 1–8 +\| \*\*required\*\* +\| Lane the gate controls\. +\|$/m,
    );
    expect(page).toMatch(/^\| `drivers\[\]\.driver` +\| one of `fixture-gate` +\|/m);
  });
});
