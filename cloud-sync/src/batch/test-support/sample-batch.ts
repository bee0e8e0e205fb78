import { randomBytes } from 'node:crypto';
import { generateSm2KeyPair, type Sm2KeyPair } from '../../crypto/sm2.ts';
import { buildBatch } from '../batch-v1.ts';
import { sampleChain } from './sample-records.ts';

/** One signed batch of `count` sample records from genesis, with the keys that made and can open it. */
export function sampleSignedBatch(
  boxId: string,
  count: number,
): { body: Buffer; box: Sm2KeyPair; bank: Sm2KeyPair } {
  const box = generateSm2KeyPair();
  const bank = generateSm2KeyPair();
  const chain = sampleChain({ boxId, count, salt: () => randomBytes(16).toString('hex') });
  const { body } = buildBatch(
    { boxId, batchSeq: 1, createdAt: '2026-03-02T03:30:00.000Z', ...chain },
    { boxPrivateKeyHex: box.privateKeyHex, bankPublicKeyHex: bank.publicKeyHex },
  );
  return { body, box, bank };
}
