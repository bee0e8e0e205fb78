import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sm4CbcDecrypt, sm4CbcEncrypt } from '@sceneway/cloud-sync';
import type { TerminalKey } from '@sceneway/device-drivers';
import { GatewayError } from '../gateway-error.ts';

/**
 * The sealed store of canteen POS terminal keys (POS protocol v2, issue #12): one 32-byte key per till
 * and version, made on the box by `sceneway terminal provision <id>` and shown to the installer once.
 *
 * Sealed like the box key (docs/decisions.md D-entry of issue #12): SM4-CBC, then HMAC-SM3 over the
 * format, IV and ciphertext (encrypt-then-MAC: Node's OpenSSL has no SM4-GCM), under two keys derived
 * by HMAC-SM3 from the box's own SM2 private key. No second passphrase: whoever can open the box key
 * can open this, and nobody else. The MAC is checked before anything is decrypted, so an altered file
 * is refused whole (KEYS_TERMINAL_STORE) and never half used. File mode 0600, written beside and
 * renamed over, so a crash mid-write never leaves half a store.
 */
export const TERMINAL_KEYS_FILE = 'terminal-keys.json';
const FORMAT = 'sceneway.terminal-keys.v1';
/** Versions kept per till: the current and the one before (offline records made before a re-key). */
const KEPT_VERSIONS = 2;
const MAX_VERSION = 0xffff;

interface SealedStore {
  format: typeof FORMAT;
  cipher: 'SM4-CBC+HMAC-SM3';
  ivHex: string;
  ciphertextHex: string;
  macHex: string;
}

interface StoredKey {
  version: number;
  keyHex: string;
  provisionedAt: string;
}
type Plain = { terminals: Record<string, StoredKey[]> };

const hmacSm3 = (key: Uint8Array, ...parts: Array<string | Uint8Array>) => {
  const h = createHmac('sm3', key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** Two keys of the store from the box's own secret, each for one job. */
function storeKeys(boxPrivateKeyHex: string): { enc: Buffer; mac: Buffer } {
  const root = hmacSm3(Buffer.from(boxPrivateKeyHex, 'hex'), FORMAT);
  return { enc: hmacSm3(root, 'sm4-cbc').subarray(0, 16), mac: hmacSm3(root, 'hmac-sm3') };
}

const macOf = (macKey: Buffer, s: Omit<SealedStore, 'macHex'>) =>
  hmacSm3(macKey, JSON.stringify([s.format, s.cipher, s.ivHex.toLowerCase(), s.ciphertextHex.toLowerCase()]));

const refused = (file: string, why: string, hint: string) =>
  new GatewayError('KEYS_TERMINAL_STORE', `the terminal key store ${file} ${why}`, hint);

const RESTORE =
  'Restore it from the box backup, or provision the tills again (`sceneway terminal provision <id>`).';

function readStore(file: string, boxPrivateKeyHex: string): Plain {
  if (!existsSync(file)) return { terminals: {} };
  let sealed: SealedStore;
  try {
    sealed = JSON.parse(readFileSync(file, 'utf8')) as SealedStore;
  } catch (cause) {
    throw new GatewayError('KEYS_TERMINAL_STORE', `the terminal key store ${file} is not JSON`, RESTORE, {
      cause,
    });
  }
  const hex = (v: unknown) => typeof v === 'string' && /^(?:[0-9a-fA-F]{2})+$/.test(v);
  if (
    sealed?.format !== FORMAT ||
    sealed.cipher !== 'SM4-CBC+HMAC-SM3' ||
    !hex(sealed.ivHex) ||
    !hex(sealed.ciphertextHex) ||
    !hex(sealed.macHex)
  ) {
    throw refused(file, 'is damaged: not a sealed terminal key store', RESTORE);
  }
  const keys = storeKeys(boxPrivateKeyHex);
  const got = Buffer.from(sealed.macHex, 'hex');
  const expected = macOf(keys.mac, sealed);
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    throw refused(
      file,
      'was altered or sealed by another box: its MAC does not match',
      'Do not use it: restore the file from the box backup and find out who changed it, or provision the tills again.',
    );
  }
  const plain = sm4CbcDecrypt(
    keys.enc,
    Buffer.from(sealed.ivHex, 'hex'),
    Buffer.from(sealed.ciphertextHex, 'hex'),
  );
  try {
    return JSON.parse(Buffer.from(plain).toString('utf8')) as Plain;
  } finally {
    plain.fill(0);
  }
}

function writeStore(file: string, boxPrivateKeyHex: string, plain: Plain): void {
  const keys = storeKeys(boxPrivateKeyHex);
  const secret = Buffer.from(JSON.stringify(plain));
  const { iv, ciphertext } = sm4CbcEncrypt(keys.enc, secret);
  secret.fill(0);
  const unsigned: Omit<SealedStore, 'macHex'> = {
    format: FORMAT,
    cipher: 'SM4-CBC+HMAC-SM3' as const,
    ivHex: Buffer.from(iv).toString('hex'),
    ciphertextHex: Buffer.from(ciphertext).toString('hex'),
  };
  const sealed: SealedStore = { ...unsigned, macHex: macOf(keys.mac, unsigned).toString('hex') };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(sealed, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

export interface TerminalKeyStore {
  readonly file: string;
  /** The till's keys, newest first; empty when it was never provisioned. Key bytes: never log them. */
  keys(terminalId: string): readonly TerminalKey[];
}

/** Opens the store (an absent file is an empty store); an altered or damaged one throws KEYS_TERMINAL_STORE. */
export function openTerminalKeyStore(options: { dir: string; boxPrivateKeyHex: string }): TerminalKeyStore {
  const file = join(options.dir, TERMINAL_KEYS_FILE);
  const plain = readStore(file, options.boxPrivateKeyHex);
  const byTerminal = new Map<string, TerminalKey[]>(
    Object.entries(plain.terminals).map(([id, list]) => [
      id,
      list.map((k) => ({ version: k.version, key: Buffer.from(k.keyHex, 'hex') })),
    ]),
  );
  return { file, keys: (terminalId) => byTerminal.get(terminalId) ?? [] };
}

/**
 * A new key for one till: version = previous + 1, the previous kept (KEPT_VERSIONS), sealed and
 * written before it is returned. The caller shows it once; it is never written anywhere in clear.
 */
export function provisionTerminalKey(options: {
  dir: string;
  boxPrivateKeyHex: string;
  terminalId: string;
  now?: Date;
}): { version: number; key: Buffer; file: string } {
  const file = join(options.dir, TERMINAL_KEYS_FILE);
  const plain = readStore(file, options.boxPrivateKeyHex);
  const previous = plain.terminals[options.terminalId] ?? [];
  const version = (previous[0]?.version ?? 0) + 1;
  if (version > MAX_VERSION) {
    throw new GatewayError(
      'KEYS_TERMINAL_STORE',
      `terminal ${options.terminalId} has used every key version (1..${MAX_VERSION})`,
      'Remove the till from the store and provision it afresh.',
    );
  }
  const key = randomBytes(32);
  plain.terminals[options.terminalId] = [
    { version, keyHex: key.toString('hex'), provisionedAt: (options.now ?? new Date()).toISOString() },
    ...previous,
  ].slice(0, KEPT_VERSIONS);
  writeStore(file, options.boxPrivateKeyHex, plain);
  return { version, key, file };
}

/** 64 hex digits in groups of four, two lines of eight: what the installer types into the till. */
export function keyForInstaller(key: Uint8Array): string {
  const groups = Buffer.from(key).toString('hex').toUpperCase().match(/.{4}/g) ?? [];
  return [groups.slice(0, 8).join(' '), groups.slice(8).join(' ')].join('\n');
}
