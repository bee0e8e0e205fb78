import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { ADMIN_TOKEN_ENV, adminTokenFrom } from './admin-token.ts';
import { buildKeyRotation } from './key-rotation.ts';
import { type BankServer, startBankServer } from './server.ts';
import { newTestBox } from './test-support/box-kit.ts';

/** Issue #11: status endpoints for anyone, the admin token in argv and compared with !==, silent re-keying. */
const bankKeys = generateSm2KeyPair();
const TOKEN = 'admin-token-0123456789abcdef';
let dir: string;
let bank: BankServer;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sceneway-bank-admin-'));
  bank = await startBankServer({
    dbPath: join(dir, 'bank.db'),
    bankPrivateKeyHex: bankKeys.privateKeyHex,
    logLevel: 'silent',
    adminToken: TOKEN,
  });
});

afterEach(async () => {
  await bank.close();
  rmSync(dir, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${TOKEN}` };
const codeOf = async (res: Response) => ((await res.json()) as { code: string }).code;

describe('bank admin access', () => {
  it('reads the token from a 0600 file or the environment, and refuses a file others can read', () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    chmodSync(file, 0o644);
    expect(() => adminTokenFrom(file, {})).toThrow(/readable by group or others/);
    chmodSync(file, 0o640);
    expect(() => adminTokenFrom(file, {})).toThrow(/chmod 600/);
    chmodSync(file, 0o600);
    expect(adminTokenFrom(file, {})).toBe(TOKEN);
    expect(adminTokenFrom(undefined, { [ADMIN_TOKEN_ENV]: 'from-env' })).toBe('from-env');
    expect(adminTokenFrom(undefined, {})).toBeUndefined();
  });

  it('answers /healthz to anyone, /api/status and /metrics only with the admin token', async () => {
    expect((await fetch(`${bank.url}/healthz`)).status).toBe(200);
    for (const path of ['/api/status', '/metrics']) {
      const anon = await fetch(`${bank.url}${path}`);
      expect(anon.status).toBe(401);
      expect(await codeOf(anon)).toBe('BANK_ADMIN_TOKEN');
      const wrong = await fetch(`${bank.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}x` } });
      expect(wrong.status).toBe(401);
      expect((await fetch(`${bank.url}${path}`, { headers: auth })).status).toBe(200);
    }
  });

  it('refuses re-enrolling a box with another key; rotates it only when the old key signs', async () => {
    const box = newTestBox('box-r');
    const enrol = (body: unknown) =>
      fetch(`${bank.url}/v1/enrol`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    expect((await enrol(box.enrolment)).status).toBe(200);
    expect((await enrol(box.enrolment)).status).toBe(200); // the same key again changes nothing
    const impostor = newTestBox('box-r');
    const again = await enrol(impostor.enrolment);
    expect(again.status).toBe(409);
    expect(await codeOf(again)).toBe('BANK_BOX_ALREADY_ENROLLED');
    expect((await bank.store.getBox('box-r'))?.publicKeyHex).toBe(box.keys.publicKeyHex);

    const rotate = (body: unknown, headers: Record<string, string> = auth) =>
      fetch(`${bank.url}/v1/rotate-key`, { method: 'POST', headers, body: JSON.stringify(body) });
    const next = generateSm2KeyPair();
    const createdAt = new Date().toISOString();
    // Signed by a key that is not the enrolled one: refused, key unchanged.
    const forged = buildKeyRotation({
      boxId: 'box-r',
      oldPrivateKeyHex: impostor.keys.privateKeyHex,
      newPrivateKeyHex: next.privateKeyHex,
      createdAt,
    });
    const refused = await rotate(forged);
    expect(refused.status).toBe(401);
    expect(await codeOf(refused)).toBe('BANK_KEY_ROTATION_INVALID');
    const genuine = buildKeyRotation({
      boxId: 'box-r',
      oldPrivateKeyHex: box.keys.privateKeyHex,
      newPrivateKeyHex: next.privateKeyHex,
      createdAt,
    });
    expect((await rotate(genuine, {})).status).toBe(401); // and it needs the admin token
    expect((await bank.store.getBox('box-r'))?.publicKeyHex).toBe(box.keys.publicKeyHex);
    expect((await rotate(genuine)).status).toBe(200);
    expect((await bank.store.getBox('box-r'))?.publicKeyHex).toBe(next.publicKeyHex);
    const audit = await bank.store.alerts();
    expect(audit.map((a) => `${a.kind}:${a.boxId}`)).toEqual(['BANK_BOX_KEY_ROTATED:box-r']);
  });
});
