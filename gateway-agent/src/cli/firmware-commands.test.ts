import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestVendor, writeTestPackage } from '@sceneway/firmware-tools/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MINIMAL_BOX_CONFIG } from '../config/test-support.ts';
import { runSceneway as sceneway } from './test-support.ts';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('sceneway firmware add | list', () => {
  const vendor = makeTestVendor();
  const stranger = makeTestVendor();

  it('adds a package signed by a pinned vendor key, refuses one that is not (exit 1, code named), lists what is stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-fw-cli-'));
    dirs.push(dir);
    const config = join(dir, 'box.json');
    writeFileSync(
      config,
      JSON.stringify({ ...MINIMAL_BOX_CONFIG, firmware: { vendorKeys: [vendor.publicKeyHex], dir: 'fw' } }),
    );
    const good = await writeTestPackage({ dir, vendor, fields: { version: '2.5.0' }, name: 'good.swfw' });
    const forged = await writeTestPackage({
      dir,
      vendor: stranger,
      fields: { version: '2.6.0' },
      name: 'forged.swfw',
    });

    const added = await sceneway(['firmware', 'add', good.path, '--config', config]);
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(
      /^added canteen-pos-2\.5\.0-[0-9a-f]{12}: canteen-pos 2\.5\.0 for SW-POS-200 \(from 2\.0\.0/,
    );

    const refused = await sceneway(['firmware', 'add', forged.path, '--config', config]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^refused FW_UNKNOWN_VENDOR_KEY: .*\nnothing was stored\n$/);

    const listed = await sceneway(['firmware', 'list', '--config', config]);
    expect(listed.code).toBe(0);
    expect(listed.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^canteen-pos-2\.5\.0-[0-9a-f]{12} {2}canteen-pos 2\.5\.0 {2}models SW-POS-200 {2}from 2\.0\.0 {2}40000 B$/,
      ),
    ]);
  });

  it('has --help with an example on campaign start', async () => {
    const r = await sceneway(['firmware', 'campaign', 'start', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Example:\n {2}sceneway firmware campaign start --package /);
  });
});
