import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// vitest.global-setup.ts builds the bundles before the run (cloud-sync/build.mjs).
const bundle = fileURLToPath(new URL('../../dist/sceneway-bank.mjs', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/sceneway-bank.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sceneway-bank-bin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the sceneway-bank command', () => {
  it('runs from its bundle with plain node, no TypeScript loader (tsx is a dev dependency)', () => {
    // A bundle that still imported one of our .ts files would fail here: node alone cannot load .ts.
    const out = execFileSync(process.execPath, [bundle, 'keys', 'init', '--out', join(dir, 'direct')], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/^private key: .*bank-key\.pem \(0600/);
    expect(statSync(join(dir, 'direct', 'bank-key.pem')).mode & 0o777).toBe(0o600);
  });

  it('is what the bin runs', () => {
    const out = execFileSync(process.execPath, [bin, 'keys', 'init', '--out', join(dir, 'bin')], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/^private key: .*bank-key\.pem/);
  });
});
