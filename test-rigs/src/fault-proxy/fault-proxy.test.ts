import { newRequestNonce, verifyAck } from '@sceneway/cloud-sync';
import { chainedBatches, postBatch, type TestBatch } from '@sceneway/cloud-sync/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
import { type BankHarness, isJson, startBankHarness } from './test-support/bank-harness.ts';

let h: BankHarness;
let proxy: FaultProxy;
let batches: TestBatch[];

beforeEach(async () => {
  h = await startBankHarness();
  proxy = await startFaultProxy({ target: h.bank.url, plan: {}, seed: 1 });
  batches = chainedBatches(h.box, h.bank.bankPublicKeyHex, [3, 2]);
});

afterEach(async () => {
  await proxy.close();
  await h.close();
});

function batch(i: number): TestBatch {
  const b = batches[i];
  if (!b) throw new Error(`no batch ${i}`);
  return b;
}

const expectFor = (b: TestBatch, nonce?: string) => ({
  boxId: h.box.boxId,
  batchSeq: b.batchSeq,
  digest: b.digest,
  requestNonce: nonce,
});

/** fetch reports a connection closed without an answer as a TypeError whose cause is the socket error. */
async function expectSocketError(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TypeError);
  const cause = (err as { cause?: { code?: string } }).cause;
  expect(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']).toContain(cause?.code);
}

async function metric(line: string): Promise<number> {
  const text = await (await fetch(`${h.bank.url}/metrics`)).text();
  const hit = text.split('\n').find((l) => l.startsWith(`${line} `));
  return hit ? Number(hit.split(' ').at(-1)) : 0;
}

describe('fault proxy against the reference bank', () => {
  it('forwards a clean upload and the ack verifies with the bank key', async () => {
    const res = await postBatch(proxy.url, h.signer, batch(0));
    expect(res.status).toBe(200);
    expect(verifyAck(res.body, h.bank.bankPublicKeyHex, expectFor(batch(0), res.nonce)).status).toBe(
      'stored',
    );
    expect(proxy.stats().forwarded).toBe(1);
    expect(proxy.decisions()).toEqual(['none']);
  });

  it('drop-request: the client sees a socket error and the bank never saw the request', async () => {
    proxy.setPlan({ 'drop-request': 1 });
    const nonce = newRequestNonce();
    await expectSocketError(postBatch(proxy.url, h.signer, batch(0), { nonce }));
    expect(await h.bank.store.recordCount()).toBe(0);
    // The bank refuses a nonce it has seen; it accepts this one, so the request never reached it.
    const direct = await postBatch(h.bank.url, h.signer, batch(0), { nonce });
    expect(direct.status).toBe(200);
    expect(proxy.stats()['drop-request']).toBe(1);
  });

  it('drop-response: the bank committed, the client saw a socket error, a resend is re-acked', async () => {
    proxy.setPlan({ 'drop-response': 1 });
    await expectSocketError(postBatch(proxy.url, h.signer, batch(0)));
    expect(await h.bank.store.recordCount()).toBe(3);
    proxy.setPlan({});
    const resend = await postBatch(proxy.url, h.signer, batch(0));
    expect(verifyAck(resend.body, h.bank.bankPublicKeyHex, expectFor(batch(0), resend.nonce)).status).toBe(
      'duplicate',
    );
    expect(await h.bank.store.recordCount()).toBe(3);
    expect(proxy.stats()).toMatchObject({ 'drop-response': 1, forwarded: 1 });
  });

  it('delay: the request is held before it reaches the bank, then answered normally', async () => {
    proxy.setPlan({ delay: 1, delayMs: 2_000 });
    const pending = postBatch(proxy.url, h.signer, batch(0));
    while (proxy.decisions().length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(proxy.decisions()).toEqual(['delay']);
    expect(await h.bank.store.recordCount()).toBe(0);
    const res = await pending;
    expect(verifyAck(res.body, h.bank.bankPublicKeyHex, expectFor(batch(0), res.nonce)).status).toBe(
      'stored',
    );
    expect(await h.bank.store.recordCount()).toBe(3);
  });

  it('duplicate-request: the bank got both copies, stored once and the client got the ack', async () => {
    proxy.setPlan({ 'duplicate-request': 1 });
    const res = await postBatch(proxy.url, h.signer, batch(0));
    expect(verifyAck(res.body, h.bank.bankPublicKeyHex, expectFor(batch(0), res.nonce)).status).toBe(
      'stored',
    );
    expect(await h.bank.store.recordCount()).toBe(3);
    // Same bytes and nonce: the twin is refused as a replayed request (004 §5.3.1 h).
    expect(await metric('sceneway_bank_batches_total{outcome="stored"}')).toBe(1);
    expect(await metric('sceneway_bank_refusals_total{code="BANK_NONCE_REPLAYED"}')).toBe(1);
    expect(proxy.stats()['duplicate-request']).toBe(1);
  });

  it('error-500: the client gets a 500 and the request was not forwarded', async () => {
    proxy.setPlan({ 'error-500': 1 });
    const nonce = newRequestNonce();
    const res = await postBatch(proxy.url, h.signer, batch(0), { nonce });
    expect(res.status).toBe(500);
    expect(await h.bank.store.recordCount()).toBe(0);
    expect((await postBatch(h.bank.url, h.signer, batch(0), { nonce })).status).toBe(200);
  });

  it('garbage-body: the bank stored the batch, the client got 200 with bytes that are not JSON', async () => {
    proxy.setPlan({ 'garbage-body': 1 });
    const res = await postBatch(proxy.url, h.signer, batch(0));
    expect(res.status).toBe(200);
    expect(isJson(res.body)).toBe(false);
    expect(() => verifyAck(res.body, h.bank.bankPublicKeyHex, expectFor(batch(0)))).toThrow(
      expect.objectContaining({ code: 'SYNC_ACK_MALFORMED' }),
    );
    expect(await h.bank.store.recordCount()).toBe(3);
  });

  it('wrong-key-ack: same fields, signed by another key, so the pinned bank key refuses it', async () => {
    proxy.setPlan({ 'wrong-key-ack': 1 });
    const res = await postBatch(proxy.url, h.signer, batch(0));
    expect(res.status).toBe(200);
    expect(() => verifyAck(res.body, h.bank.bankPublicKeyHex, expectFor(batch(0), res.nonce))).toThrow(
      expect.objectContaining({ code: 'SYNC_ACK_SIGNATURE' }),
    );
    const forged = verifyAck(res.body, proxy.wrongAckPublicKeyHex, expectFor(batch(0), res.nonce));
    expect(forged).toMatchObject({ status: 'stored', lastSeq: batch(0).lastSeq });
    expect(await h.bank.store.recordCount()).toBe(3);
    expect(proxy.stats()['wrong-key-ack']).toBe(1);
  });

  it('replayed-ack: a genuine ack of an earlier batch answers a later one', async () => {
    const first = await postBatch(proxy.url, h.signer, batch(0));
    proxy.setPlan({ 'replayed-ack': 1 });
    const res = await postBatch(proxy.url, h.signer, batch(1));
    expect(res.body.equals(first.body)).toBe(true);
    expect(() => verifyAck(res.body, h.bank.bankPublicKeyHex, expectFor(batch(1), res.nonce))).toThrow(
      expect.objectContaining({ code: 'SYNC_ACK_MISMATCH' }),
    );
    expect(await h.bank.store.recordCount()).toBe(5);
    expect(proxy.stats()).toMatchObject({ 'replayed-ack': 1, forwarded: 1 });
  });

  it('replayed-ack with no ack of another batch seen yet forwards the genuine answer', async () => {
    proxy.setPlan({ 'replayed-ack': 1 });
    const res = await postBatch(proxy.url, h.signer, batch(0));
    expect(verifyAck(res.body, h.bank.bankPublicKeyHex, expectFor(batch(0), res.nonce)).status).toBe(
      'stored',
    );
    expect(proxy.stats()).toMatchObject({ 'replayed-ack': 0, forwarded: 1 });
    expect(proxy.decisions()).toEqual(['replayed-ack']);
  });

  it('passes every other path untouched, even when every upload is faulted', async () => {
    proxy.setPlan({ 'error-500': 0.5, 'drop-request': 0.5 });
    const probes: Array<[string, RequestInit?]> = [
      ['/healthz'],
      ['/api/status'],
      ['/api/status?verbose=1'],
      ['/v1/batches'], // GET: not an upload; the bank answers 404
      ['/v1/enrol', { method: 'POST', body: JSON.stringify(h.box.enrolment) }], // 401 without the admin token
      ['/nowhere', { method: 'PUT', body: 'x' }],
    ];
    for (const [path, init] of probes) {
      const direct = await fetch(`${h.bank.url}${path}`, init);
      const viaProxy = await fetch(`${proxy.url}${path}`, init);
      expect(viaProxy.status, path).toBe(direct.status);
      expect(viaProxy.headers.get('content-type'), path).toBe(direct.headers.get('content-type'));
      // A refusal's `signed` member is signed afresh each time (its own time, SM2 randomness).
      const unsigned = (text: string) => text.replace(/,"signed":\{.*\}\}$/, '}');
      expect(unsigned(await viaProxy.text()), path).toBe(unsigned(await direct.text()));
    }
    expect(proxy.decisions()).toEqual([]);
    expect(proxy.stats().forwarded).toBe(probes.length);
  });

  it('answers 502 when the bank is unreachable', async () => {
    await h.close();
    const res = await fetch(`${proxy.url}/healthz`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { code: string }).code).toBe('FAULT_PROXY_UPSTREAM');
    expect(proxy.stats().upstreamErrors).toBe(1);
    h = await startBankHarness(); // afterEach closes it
  });
});
