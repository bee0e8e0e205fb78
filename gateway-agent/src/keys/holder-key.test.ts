import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEnrolmentRequest, generateSm2KeyPair, holderKeyForBox } from '@sceneway/cloud-sync';
import { startBankServer } from '@sceneway/cloud-sync/bank';
import { afterEach, describe, expect, it } from 'vitest';
import { isGatewayError } from '../gateway-error.ts';
import { ENROLMENT_ANSWER_FILE, importEnrolmentAnswer, loadHolderKey } from './holder-key.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const codeOf = (fn: () => unknown): string | null => {
  try {
    fn();
    return null;
  } catch (e) {
    return isGatewayError(e) ? e.code : String(e);
  }
};

describe('holder key from the bank enrolment answer (D27)', () => {
  it('POST /v1/enrol on the real bank answers with the key, which the box imports and loads', async () => {
    const bankKeys = generateSm2KeyPair();
    const box = generateSm2KeyPair();
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-holder-key-'));
    dirs.push(dir);
    const bank = await startBankServer({
      bankPrivateKeyHex: bankKeys.privateKeyHex,
      dbPath: join(dir, 'bank.db'),
      logLevel: 'silent',
      adminToken: 'test-admin-token',
    });
    try {
      const request = buildEnrolmentRequest(
        {
          boxId: 'box-7',
          siteId: 'site-7',
          publicKeyHex: box.publicKeyHex,
          createdAt: new Date().toISOString(),
        },
        box.privateKeyHex,
      );
      const res = await fetch(`${bank.url}/v1/enrol`, {
        method: 'POST',
        headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { enrolled: string; answer: unknown };
      expect(body.enrolled).toBe('box-7');
      const holderKey = holderKeyForBox(bankKeys.privateKeyHex, 'box-7');
      expect(JSON.stringify(body)).not.toContain(holderKey.toString('hex'));

      const owner = {
        dir,
        boxId: 'box-7',
        privateKeyHex: box.privateKeyHex,
        bankPublicKeyHex: bankKeys.publicKeyHex,
      };
      expect(loadHolderKey(owner)).toBeNull(); // before the import: no key, the canteen says so
      importEnrolmentAnswer(owner, body.answer);
      expect(statSync(join(dir, ENROLMENT_ANSWER_FILE)).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, ENROLMENT_ANSWER_FILE), 'utf8')).not.toContain(holderKey.toString('hex'));
      expect(loadHolderKey(owner)).toEqual(holderKey);

      // Another bank's answer, or this one for another box, is refused; a damaged file stops the start.
      const stranger = generateSm2KeyPair();
      expect(
        codeOf(() =>
          importEnrolmentAnswer({ ...owner, bankPublicKeyHex: stranger.publicKeyHex }, body.answer),
        ),
      ).toBe('KEYS_ENROLMENT_ANSWER');
      expect(codeOf(() => importEnrolmentAnswer({ ...owner, boxId: 'box-8' }, body.answer))).toBe(
        'KEYS_ENROLMENT_ANSWER',
      );
      writeFileSync(join(dir, ENROLMENT_ANSWER_FILE), '{"format":"sceneway.enrol-answer.v1"');
      expect(codeOf(() => loadHolderKey(owner))).toBe('KEYS_ENROLMENT_ANSWER');
    } finally {
      await bank.close();
    }
  });
});
