import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSm2KeyPair, signRefusal } from '@sceneway/cloud-sync';
import { afterEach, describe, expect, it } from 'vitest';
import { saleInput } from '../ledger/test-support.ts';
import { createSyncRig, type SyncRig, waitFor } from './test-support.ts';

/**
 * Issue #11: one forged 4xx over plain HTTP stopped the box's uploader until restart. Now a refusal
 * stops it only when signed by the pinned bank key for this request; anything else is "try later".
 */
let rig: SyncRig | undefined;
let forger: http.Server | undefined;
afterEach(async () => {
  forger?.closeAllConnections();
  await new Promise<void>((resolve) => (forger ? forger.close(() => resolve()) : resolve()));
  forger = undefined;
  await rig?.close();
  rig = undefined;
});

/** Something on the path: answers the first `forged` uploads itself, then relays to the real bank. */
async function startForger(bankUrl: string, forgeries: Array<(nonce: string) => object>): Promise<string> {
  let n = 0;
  forger = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const forge = forgeries[n++];
      if (forge) {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify(forge(String(req.headers['x-sceneway-nonce']))));
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (k.startsWith('x-sceneway-') || k === 'content-type') headers[k] = String(v);
      const answer = await fetch(`${bankUrl}${req.url}`, {
        method: req.method ?? 'POST',
        headers,
        body: Buffer.concat(chunks),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => forger?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(forger.address() as AddressInfo).port}`;
}

describe('uploader and refusals it cannot verify', () => {
  it('does not stop on forged 4xx (unsigned, wrong key, other request): it retries and drains', async () => {
    rig = await createSyncRig();
    const bank = await rig.startBank();
    const stranger = generateSm2KeyPair();
    const refusal = { code: 'BANK_BOX_NOT_ENROLLED', message: 'forged' };
    const signedBy = (key: string, nonce: string) =>
      signRefusal(
        {
          status: 403,
          ...refusal,
          bankHeadSeq: null,
          boxId: rig?.boxId ?? null,
          requestNonce: nonce,
          refusedAt: new Date().toISOString(),
        },
        key,
      );
    const url = await startForger(bank.url, [
      () => refusal,
      () => refusal,
      (nonce) => ({ ...refusal, signed: signedBy(stranger.privateKeyHex, nonce) }),
      // Signed by the real bank key, but about another request: a captured refusal replayed.
      () => ({ ...refusal, signed: signedBy(bankKeyOf(rig), '0'.repeat(32)) }),
    ]);
    await Promise.all(Array.from({ length: 10 }, (_, i) => rig?.ledger.append(saleInput(i))));
    const failures: string[] = [];
    const alerts: string[] = [];
    const uploader = rig.uploader({
      bankUrl: url,
      onFailure: (code) => failures.push(code),
      alerts: { raise: (a) => alerts.push(a.code), clear: () => {} },
    });
    uploader.start();
    await waitFor(() => rig?.ledger.stats().unsyncedCount === 0, 'the outbox to drain past the forgeries');
    await uploader.stop();
    expect(failures).toEqual([
      'SYNC_REFUSAL_UNVERIFIED',
      'SYNC_REFUSAL_UNVERIFIED',
      'SYNC_REFUSAL_UNVERIFIED',
      'SYNC_REFUSAL_UNVERIFIED',
    ]);
    expect(alerts).toContain('SYNC_REFUSAL_UNVERIFIED');
    expect(alerts).not.toContain('SYNC_BATCH_REFUSED');
    expect(await bank.store.recordCount(rig.boxId)).toBe(10);
  });
});

function bankKeyOf(r: SyncRig | undefined): string {
  if (!r) throw new Error('no rig');
  return r.bankKeys.privateKeyHex;
}
