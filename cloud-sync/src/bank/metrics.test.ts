import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { startBankServer } from './server.ts';
import { chainedBatches, newTestBox, postBatch } from './test-support/box-kit.ts';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

describe('bank /metrics', () => {
  // promtool is installed on the project's machines; where it is not, say so rather than pass silently.
  it.skipIf(!hasPromtool)(
    'is clean for promtool check metrics, with HELP and TYPE for each metric',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sceneway-bank-metrics-'));
      const bankKeys = generateSm2KeyPair();
      const bank = await startBankServer({
        dbPath: join(dir, 'bank.db'),
        bankPrivateKeyHex: bankKeys.privateKeyHex,
        logLevel: 'silent',
        adminToken: 'metrics-token-0123456789',
      });
      try {
        const box = newTestBox('box-m');
        await bank.store.enrolBox({
          boxId: box.boxId,
          siteId: 'site-m',
          publicKeyHex: box.keys.publicKeyHex,
          enrolledAt: new Date().toISOString(),
        });
        const [b] = chainedBatches(box, bankKeys.publicKeyHex, [3]);
        if (!b) throw new Error('no batch');
        const signer = { boxId: box.boxId, privateKeyHex: box.keys.privateKeyHex };
        expect((await postBatch(bank.url, signer, b)).status).toBe(200);
        expect((await postBatch(bank.url, { ...signer, boxId: 'nobody' }, b)).status).toBe(403);
        const res = await fetch(`${bank.url}/metrics`, {
          headers: { authorization: 'Bearer metrics-token-0123456789' },
        });
        const text = await res.text();
        expect(text).toContain('# HELP sceneway_bank_batches_total');
        expect(text).toContain('sceneway_bank_batches_total{outcome="stored"} 1');
        expect(text).toContain('sceneway_bank_refusals_total{code="BANK_BOX_NOT_ENROLLED"} 1');
        expect(text).toContain('sceneway_bank_records_stored 3');
        const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
        expect(`${check.stdout}${check.stderr}`).toBe('');
        expect(check.status).toBe(0);
      } finally {
        await bank.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
