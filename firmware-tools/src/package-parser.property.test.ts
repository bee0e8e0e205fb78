import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sm2Sign } from '@sceneway/cloud-sync';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FirmwareRefusedError } from './firmware-refused-error.ts';
import { openFirmwarePackage } from './open-package.ts';
import { assembleFirmwarePackage, packFirmware } from './pack.ts';
import { decodePackageHeader, HEADER_BYTES } from './package-layout.ts';
import { makeTestVendor, TEST_FIELDS, testFirmwareImage } from './testing.ts';

/**
 * The package reader under junk: whatever the file holds, it resolves only for the exact package that
 * was made, and otherwise rejects with a FirmwareRefusedError and a code; never a TypeError, a
 * RangeError or a hang. Signed junk manifests reach the schema too (junk alone stops at the signature).
 */
const dir = mkdtempSync(join(tmpdir(), 'sceneway-fw-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const vendor = makeTestVendor();
const image = testFirmwareImage(9000, 'fuzz'); // three 4 KiB chunks
const good = packFirmware({ image, fields: TEST_FIELDS, vendorPrivateKeyHex: vendor.privateKeyHex });
const keys = { vendorPublicKeys: [vendor.publicKeyHex] };
let n = 0;

async function outcome(bytes: Uint8Array): Promise<'ok' | string> {
  const path = join(dir, `p${n++}.swfw`);
  writeFileSync(path, bytes);
  try {
    await openFirmwarePackage(path, keys);
    return 'ok';
  } catch (err) {
    if (err instanceof FirmwareRefusedError) return err.code;
    throw err;
  } finally {
    rmSync(path, { force: true });
  }
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat({ max: HEADER_BYTES - 1 }),
    value: fc.nat({ max: 255 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(bytes: Buffer, m: Mutation): Buffer {
  const at = m.at % (bytes.length + 1);
  if (m.kind === 'cut') return bytes.subarray(0, at);
  if (m.kind === 'insert') return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
  const out = Buffer.from(bytes);
  const i = Math.min(at, out.length - 1);
  out[i] = m.kind === 'flip' ? (out[i] ?? 0) ^ (1 << m.bit) : m.value;
  return out;
}

describe('the package parser under junk', () => {
  it('random bytes, and bytes behind a valid-looking header, are refused with a code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (junk, withHeader) => {
        const bytes = withHeader ? Buffer.concat([good.bytes.subarray(0, HEADER_BYTES), junk]) : junk;
        expect(await outcome(bytes)).not.toBe('ok');
      }),
      { numRuns: 150 },
    );
  });

  it('a mutated package is refused with a code, and only the unchanged package opens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (ms) => {
        const bytes = ms.reduce(mutate, good.bytes);
        const result = await outcome(bytes);
        if (result === 'ok') expect(bytes.equals(good.bytes)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('junk manifests signed by the pinned vendor key are refused by the schema, never crash it', async () => {
    const field = fc.constantFrom(...Object.keys(good.manifest));
    const manifestJunk = fc.oneof(
      fc.jsonValue(),
      fc.record({ field, value: fc.jsonValue() }).map(({ field, value }) => ({
        ...good.manifest,
        [field]: value,
      })),
      fc.string().map((s) => ({ ...good.manifest, vendorKeyId: vendor.keyId, extra: s })),
    );
    await fc.assert(
      fc.asyncProperty(manifestJunk, fc.boolean(), async (value, keyed) => {
        // Mostly an object naming the pinned key (so the signature verifies and the schema is reached);
        // sometimes the bare value (null, a number, an array) as the whole manifest.
        const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
        const withKey = isObject || !keyed ? value : { vendorKeyId: vendor.keyId, value };
        const manifestBytes = Buffer.from(JSON.stringify(withKey) ?? 'null');
        if (manifestBytes.length < 2) return;
        const signature = sm2Sign(manifestBytes, vendor.privateKeyHex);
        const result = await outcome(assembleFirmwarePackage({ manifestBytes, signature, image }));
        if (result === 'ok') expect(manifestBytes.equals(good.manifestBytes)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('the pure header decoder throws nothing but FirmwareRefusedError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(), (bytes, extra) => {
        try {
          const h = decodePackageHeader(bytes, bytes.length + extra);
          expect(h.imageOffset).toBe(HEADER_BYTES + h.manifestLength + h.signatureLength);
        } catch (err) {
          expect(err).toBeInstanceOf(FirmwareRefusedError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
