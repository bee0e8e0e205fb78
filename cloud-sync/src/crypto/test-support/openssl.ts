import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The `openssl` command line (OpenSSL 3) as the independent implementation our GM/T code is checked
 * against (DESIGN.md "National cryptography"). Tests only.
 */
export function openssl(args: string[], input?: Uint8Array): Buffer {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs openssl and reports success instead of throwing (for "must refuse" checks). */
export function opensslOk(args: string[]): boolean {
  try {
    openssl(args);
    return true;
  } catch {
    return false;
  }
}

export interface TempDir {
  path: string;
  write(name: string, data: string | Uint8Array): string;
  remove(): void;
}

export function tempDir(prefix = 'sceneway-crypto-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    write(name, data) {
      const file = join(path, name);
      writeFileSync(file, data);
      return file;
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
