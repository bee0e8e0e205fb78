import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { testFirmwareImage } from '../testing.ts';

/** The installed command, spawned as a vendor or an installer runs it (stdout and stderr are pipes). */
const bin = fileURLToPath(new URL('../../bin/sceneway-fw.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sceneway-fw-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: dir }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const packArgs = (image: string, out: string, extra: string[] = []) => [
  'pack',
  image,
  '--key',
  at('keys/vendor-key.pem'),
  '--out',
  out,
  '--family',
  'face-reader',
  '--model',
  'FR-10',
  '--model',
  'FR-12',
  '--hardware',
  'rev-c',
  '--version',
  '3.1.0',
  '--min-previous',
  '3.0.0',
  '--notes',
  'Faster matching.',
  '--chunk-size',
  '4096',
  ...extra,
];

// Each spawn starts tsx (≈1 s of CPU, several seconds on a loaded 2-core box): generous timeouts.
describe('sceneway-fw, spawned', { timeout: 180_000 }, () => {
  it('keygen writes a 0600 private key it does not print, and never overwrites one', async () => {
    const first = await run('keygen', '--out', at('keys'));
    expect(first.code).toBe(0);
    expect(statSync(at('keys/vendor-key.pem')).mode & 0o777).toBe(0o600);
    const publicHex = readFileSync(at('keys/vendor.pub.hex'), 'utf8').trim();
    expect(first.stdout).toContain(publicHex);
    const privatePem = readFileSync(at('keys/vendor-key.pem'), 'utf8');
    const privateBase64 = privatePem.split('\n').slice(1, -2).join('');
    expect(first.stdout).not.toContain(privateBase64.slice(0, 24));
    expect(first.stdout).not.toMatch(/private key \(hex/);

    const again = await run('keygen', '--out', at('keys'));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('never overwritten');
    expect(readFileSync(at('keys/vendor-key.pem'), 'utf8')).toBe(privatePem);

    const shown = await run('keygen', '--out', at('keys2'), '--print-private');
    expect(shown.stdout).toMatch(/private key \(hex, as asked\): [0-9a-f]{64}\n/);
  });

  it('pack, verify, inspect --extract: a package an installer can check, then openssl too', async () => {
    const image = testFirmwareImage(50_000, 'cli');
    writeFileSync(at('reader.bin'), image);
    const packed = await run(...packArgs(at('reader.bin'), at('reader.swfw')));
    expect(packed.stderr).toBe('digest: 100% (50000 of 50000 bytes)\nwrite: 100% (50000 of 50000 bytes)\n');
    expect(packed.code).toBe(0);
    expect(packed.stdout).toContain('face-reader 3.1.0 for FR-10, FR-12, 50000 bytes in 13 chunks of 4096');

    const verified = await run('verify', at('reader.swfw'), '--vendor-key', at('keys/vendor.pub.pem'));
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /^verified .*reader\.swfw: face-reader 3\.1\.0 for FR-10, FR-12 \(hardware rev-c\)/,
    );

    const inspected = await run('inspect', at('reader.swfw'), '--extract', at('audit'));
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain('NOT verified');
    expect(inspected.stdout).toContain('Faster matching.');
    expect(readFileSync(at('audit/image.bin')).equals(image)).toBe(true);
    const json = await run('inspect', at('reader.swfw'), '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ family: 'face-reader', models: ['FR-10', 'FR-12'] });

    const openssl = await new Promise<string>((resolve) =>
      execFile(
        'openssl',
        [
          'dgst',
          '-sm3',
          '-verify',
          at('keys/vendor.pub.pem'),
          '-sigopt',
          'distid:1234567812345678',
          '-signature',
          at('audit/manifest.sig'),
          at('audit/manifest.json'),
        ],
        (err, stdout) => resolve(err ? `failed: ${err.message}` : stdout.trim()),
      ),
    );
    expect(openssl).toBe('Verified OK');
  });

  it('verify exits 1 naming the refusal: unknown key, corrupted image, truncated', async () => {
    const other = await run('verify', at('reader.swfw'), '--vendor-key', at('keys2/vendor.pub.hex'));
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/^refused .*: FW_UNKNOWN_VENDOR_KEY: signed by vendor key [0-9a-f]{16}…/);

    const bytes = readFileSync(at('reader.swfw'));
    const corrupt = Buffer.from(bytes);
    const last = corrupt.length - 1;
    corrupt[last] = (corrupt[last] ?? 0) ^ 0x80;
    writeFileSync(at('corrupt.swfw'), corrupt);
    const bad = await run('verify', at('corrupt.swfw'), '--vendor-key', at('keys/vendor.pub.pem'));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('FW_DIGEST_MISMATCH: chunk 12 (image bytes 49152..49999)');

    writeFileSync(at('short.swfw'), bytes.subarray(0, bytes.length - 100));
    const short = await run('verify', at('short.swfw'), '--vendor-key', at('keys/vendor.pub.pem'));
    expect(short.code).toBe(1);
    expect(short.stdout).toContain('FW_TRUNCATED');
  });

  it('exits 2 for what it cannot do: a field out of range, a readable key file, no such package', async () => {
    const badVersion = await run(...packArgs(at('reader.bin'), at('x.swfw'), ['--version', '3.1']));
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toContain('manifest.version: M.m.p, digits only');

    chmodSync(at('keys2/vendor-key.pem'), 0o644);
    const open = await run(
      ...packArgs(at('reader.bin'), at('y.swfw')).map((a) => a.replace('keys/', 'keys2/')),
    );
    expect(open.code).toBe(2);
    expect(open.stderr).toContain('chmod 600');

    const missing = await run('verify', at('nothing.swfw'), '--vendor-key', at('keys/vendor.pub.pem'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: .*ENOENT/);
  });

  it('--help of each command shows an example', async () => {
    const help = await run('pack', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Example:');
    expect(help.stdout).toContain('--min-previous <M.m.p>');
  });
});
