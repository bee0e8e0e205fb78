import { randomBytes } from 'node:crypto';
import { BATCH_FORMAT } from '../../batch/batch-schema.ts';
import { buildBatch, parseBatchEnvelope } from '../../batch/batch-v1.ts';
import { buildEnrolmentRequest } from '../../batch/enrolment.ts';
import { canonicalBytes } from '../../batch/jcs.ts';
import { requestHeaders } from '../../batch/request-auth.ts';
import { sampleChain } from '../../batch/test-support/sample-records.ts';
import { GENESIS_HASH } from '../../chain/record-chain.ts';
import { generateSm2KeyPair, type Sm2KeyPair, sm2Sign } from '../../crypto/sm2.ts';
import { sm3Hex } from '../../crypto/sm3.ts';

/** A simulated box for bank tests: its own key pair, a chained ledger and real signed batches. */
export interface TestBox {
  boxId: string;
  keys: Sm2KeyPair;
  enrolment: unknown;
}

export function newTestBox(boxId: string): TestBox {
  const keys = generateSm2KeyPair();
  const enrolment = buildEnrolmentRequest(
    { boxId, siteId: `site-${boxId}`, publicKeyHex: keys.publicKeyHex, createdAt: new Date().toISOString() },
    keys.privateKeyHex,
  );
  return { boxId, keys, enrolment };
}

export interface TestBatch {
  batchSeq: number;
  body: Buffer;
  digest: string;
  firstSeq: number;
  lastSeq: number;
}

/** `sizes[i]` records in batch i+1, chained from genesis; seqs from 1. */
export function chainedBatches(
  box: TestBox,
  bankPublicKeyHex: string,
  sizes: number[],
  startMs?: number,
): TestBatch[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const chain = sampleChain({
    boxId: box.boxId,
    count: total,
    salt: () => randomBytes(16).toString('hex'),
    startMs,
  });
  const out: TestBatch[] = [];
  let at = 0;
  let prev = GENESIS_HASH;
  sizes.forEach((n, i) => {
    const records = chain.records.slice(at, at + n);
    const built = buildBatch(
      {
        boxId: box.boxId,
        batchSeq: i + 1,
        prevChainHead: prev,
        records,
        personalData: chain.personalData,
        createdAt: new Date().toISOString(),
      },
      { boxPrivateKeyHex: box.keys.privateKeyHex, bankPublicKeyHex },
    );
    out.push({
      batchSeq: i + 1,
      body: built.body,
      digest: built.digest,
      firstSeq: built.header.firstSeq,
      lastSeq: built.header.lastSeq,
    });
    prev = built.header.newChainHead;
    at += n;
  });
  return out;
}

export async function postBatch(
  url: string,
  box: { boxId: string; privateKeyHex: string },
  batch: { body: Buffer; digest: string },
  opts: { nonce?: string; now?: Date } = {},
): Promise<{ status: number; body: Buffer; nonce: string; headers: Headers }> {
  const headers = requestHeaders(
    { boxId: box.boxId, digest: batch.digest, now: opts.now ?? new Date(), nonce: opts.nonce },
    box.privateKeyHex,
  );
  const res = await fetch(`${url}/v1/batches`, { method: 'POST', headers, body: batch.body });
  return {
    status: res.status,
    body: Buffer.from(await res.arrayBuffer()),
    nonce: headers['x-sceneway-nonce'] ?? '',
    headers: res.headers,
  };
}

/** Re-signs a batch body as the box would after altering it: a box-side bug or a compromised box. */
export function resign(
  box: TestBox,
  body: Buffer,
  mutate: (batch: ReturnType<typeof parseBatchEnvelope>['body']) => void,
): { body: Buffer; digest: string } {
  const parsed = parseBatchEnvelope(body);
  const batch = structuredClone(parsed.body);
  mutate(batch);
  const canonical = canonicalBytes(batch);
  const digest = sm3Hex(canonical);
  const signature = sm2Sign(canonical, box.keys.privateKeyHex).toString('hex');
  return { body: canonicalBytes({ format: BATCH_FORMAT, batch, digest, signature }), digest };
}
