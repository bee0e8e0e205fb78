import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openFirmwarePackage } from './open-package.ts';

/** docs/firmware-format.md section 7 stays true: its hex is a package its printed key verifies. */
const doc = readFileSync(fileURLToPath(new URL('../../docs/firmware-format.md', import.meta.url)), 'utf8');

describe('the worked example of docs/firmware-format.md', () => {
  it('opens with the example vendor key and holds the 16-byte image the text describes', async () => {
    const hex = /<!-- example-package-hex: begin -->\s*```\s*([0-9a-f\s]+?)```/.exec(doc)?.[1];
    const pem = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/.exec(doc)?.[0];
    expect(hex && pem).toBeTruthy();
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-fw-doc-'));
    try {
      const path = join(dir, 'example.swfw');
      const bytes = Buffer.from(hex!.replace(/\s+/g, ''), 'hex');
      expect(bytes.length).toBe(550);
      writeFileSync(path, bytes);
      const fw = await openFirmwarePackage(path, { vendorPublicKeys: [pem!] });
      expect(Buffer.from(await fw.read(0, 16)).toString()).toBe('SWFW demo image\n');
      expect(fw.manifest).toMatchObject({ family: 'canteen-pos', version: '2.4.1', models: ['SW-POS-200'] });
      expect(fw.imageOffset).toBe(0x216);
      expect(doc).toContain(Buffer.from(fw.manifestBytes).toString());
      expect(doc).toContain(`\`vendorKeyId\` \`${fw.manifest.vendorKeyId}\``);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
