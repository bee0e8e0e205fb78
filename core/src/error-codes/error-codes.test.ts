import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODE_LAYERS } from './index.ts';
import { renderErrorCodesDoc } from './render-doc.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// test-rigs is left out: its fault proxy answers with FAULT_* codes of its own, which no box or bank emits.
const PACKAGES = ['core', 'gateway-agent', 'device-drivers', 'cloud-sync', 'firmware-tools', 'dashboards'];
const listed = ERROR_CODE_LAYERS.flatMap((l) => l.codes.map((c) => c.code as string));
const prefixes = new Set(listed.map((c) => c.split('_')[0]));

/** Production source: tests, test support and recorded fixtures may use made-up codes on purpose. */
function productionFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!['node_modules', 'dist', 'test-support', 'fixtures'].includes(name)) productionFiles(path, out);
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && name !== 'test-support.ts')
      out.push(path);
  }
  return out;
}

/**
 * Codes the source uses: a literal in a code position (an error's constructor, an alert, `code:`),
 * whatever its prefix, and any literal that looks like a code and starts with a layer's prefix
 * (codes handed through helpers such as parseJsonWith(bytes, schema, 'BATCH_MALFORMED')).
 */
function codesUsedIn(text: string): string[] {
  const code = "'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'";
  const positions = [
    new RegExp(String.raw`new (?:GatewayError|SyncError|DriverError|SceneError)\(\s*${code}`, 'g'),
    new RegExp(String.raw`new (?:Sm4ItemError|BankRefusal)\(\s*[^,()]+,\s*${code}`, 'g'),
    new RegExp(String.raw`super\(\s*${code}`, 'g'),
    new RegExp(String.raw`\b(?:raise|clear)\(\s*(?:\{\s*code:\s*)?${code}`, 'g'),
    new RegExp(String.raw`\bcode:\s*${code}`, 'g'),
  ];
  const found = positions.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!));
  for (const m of text.matchAll(new RegExp(code, 'g')))
    if (prefixes.has(m[1]!.split('_')[0]!)) found.push(m[1]!);
  return found;
}

describe('error codes', () => {
  it('are well formed, unique across layers, each with a one-line description', () => {
    expect(new Set(listed).size).toBe(listed.length);
    for (const layer of ERROR_CODE_LAYERS) {
      for (const c of layer.codes) {
        expect(c.code).toMatch(/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/);
        expect(c.description, c.code).toMatch(/^[^\n|]{10,}$/);
      }
    }
  });

  it('list every code the source uses', () => {
    const unlisted = new Map<string, string>();
    for (const pkg of PACKAGES) {
      for (const file of productionFiles(join(root, pkg, 'src'))) {
        for (const c of codesUsedIn(readFileSync(file, 'utf8'))) {
          if (!listed.includes(c) && !unlisted.has(c)) unlisted.set(c, relative(root, file));
        }
      }
    }
    // Add each code named here to core/src/error-codes/<layer>-codes.ts, then `npm run docs:errors`.
    expect(Object.fromEntries(unlisted)).toEqual({});
  });

  it('docs/error-codes.md is the rendering of the lists (run `npm run docs:errors` when it is not)', () => {
    expect(readFileSync(join(root, 'docs/error-codes.md'), 'utf8')).toBe(renderErrorCodesDoc());
  });
});
