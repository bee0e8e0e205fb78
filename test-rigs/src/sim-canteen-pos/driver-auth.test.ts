import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverInstance, SaleDecision, Transport } from '@sceneway/device-drivers';
import {
  canteenPosConfigSchema,
  canteenPosDriver,
  createFrameParser,
  createSerialTransportFactory,
  encodeFrame,
  type Frame,
} from '@sceneway/device-drivers';
import { createTestDriverContext, type TestDriverContext } from '@sceneway/device-drivers/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';

/**
 * POS protocol v2 attacks on the real driver over a real pty (issue #12, "What must be shown"): an
 * injected frame without a valid MAC charges nothing; a captured valid frame replayed after it left
 * the reply cache charges nothing; a forged offline record is refused and raises an alert.
 *
 * The till here is a few lines written from the contract (pos-v2-contract.md) with Node's HMAC-SM3,
 * not the driver's codec or MAC code: a formula both got wrong the same way would fail here.
 */
const ADDRESS = 1;
const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const TIME = () => Math.floor(Date.now() / 1000);
const CARD = Buffer.from('04A1B2C3', 'hex');

const C = {
  ACK: 0x06,
  NAK: 0x15,
  POLL: 0x30,
  TIME_SYNC: 0x31,
  SALE_RESULT: 0x32,
  UPLOAD_RESULT: 0x34,
  SESSION_CHALLENGE: 0x37,
  SALE_STATUS: 0x38,
  STATUS: 0x40,
  SALE_REQUEST: 0x41,
  OFFLINE_UPLOAD: 0x43,
  SESSION_OPEN: 0x46,
  SESSION_CONFIRM: 0x47,
  SALE_STATUS_QUERY: 0x48,
};
const NAK = { SESSION_REQUIRED: 0x06, MAC_INVALID: 0x07, REPLAYED: 0x08, AUTH_FAILED: 0x09 };

const hmac = (key: Buffer, ...parts: Buffer[]) =>
  createHmac('sm3', key).update(Buffer.concat(parts)).digest();
const label = (s: string) => Buffer.from(s, 'latin1');
const tlv = (tag: number, value: Buffer) => {
  const head = Buffer.of(tag, 0, 0);
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
};
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u16 = (n: number) => Buffer.of(n >> 8, n & 0xff);
function fieldsOf(body: Buffer): Map<number, Buffer[]> {
  const out = new Map<number, Buffer[]>();
  for (let at = 0; at < body.length; ) {
    const tag = body[at]!;
    const len = body.readUInt16BE(at + 1);
    out.set(tag, [...(out.get(tag) ?? []), body.subarray(at + 3, at + 3 + len)]);
    at += 3 + len;
  }
  return out;
}
const field = (body: Buffer, tag: number) => fieldsOf(body).get(tag)?.[0];

/** ADDR ‖ SEQ ‖ CMD ‖ LEN ‖ fields ‖ 1E 00 04 ctr, MAC'd, then 1F 00 10 MAC. */
function macFrame(key: Buffer, seq: number, command: number, fields: Buffer, counter: number): Buffer {
  const upToCounter = Buffer.concat([fields, tlv(0x1e, u32(counter))]);
  const length = upToCounter.length + 19;
  const mac = hmac(key, Buffer.of(ADDRESS, seq, command, length >> 8, length & 0xff), upToCounter).subarray(
    0,
    16,
  );
  return encodeFrame({ address: ADDRESS, seq, command, body: Buffer.concat([upToCounter, tlv(0x1f, mac)]) });
}

function verifiesUnder(key: Buffer, frame: Frame): boolean {
  const { body } = frame;
  const mac = body.subarray(body.length - 16);
  const expected = hmac(
    key,
    Buffer.of(frame.address, frame.seq, frame.command, body.length >> 8, body.length & 0xff),
    body.subarray(0, body.length - 19),
  ).subarray(0, 16);
  // …‖ 1E 00 04 <counter> ‖ 1F 00 10 <MAC>: the last 26 bytes; the MAC covers all but the last 19.
  return body[body.length - 26] === 0x1e && body[body.length - 19] === 0x1f && mac.equals(expected);
}

const saleFields = (receiptNo: number, amountFen = 1250) =>
  Buffer.concat([
    tlv(0x01, u32(receiptNo)),
    tlv(0x02, u32(amountFen)),
    tlv(0x03, CARD),
    tlv(0x05, u32(TIME())),
  ]);

/** A v2 till on its end of the pty: answers POLL with STATUS and TIME_SYNC with ACK; the test drives the rest. */
class V2Till {
  private readonly parser = createFrameParser();
  private waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  readonly frames: Frame[] = [];
  toBox = Buffer.alloc(0);
  toTerminal = Buffer.alloc(0);
  counter = 0;
  /** TIME_SYNC frames whose MAC did (not) verify under K_bt. */
  goodTimeSyncs = 0;
  /** Answers no POLL while set: the box reports the till down. */
  silent = false;
  badTimeSyncs = 0;

  constructor(private readonly line: Transport) {
    line.onData((bytes) => {
      for (const item of this.parser.push(bytes)) if (item.kind === 'frame') this.onFrame(item);
    });
  }

  private onFrame(f: Frame): void {
    if (this.silent && (f.command === C.POLL || f.command === C.TIME_SYNC)) return;
    if (f.command === C.POLL) {
      const status = Buffer.concat([
        tlv(0x14, u16(0)),
        tlv(0x15, u16(500)),
        tlv(0x0f, u32(0)),
        tlv(0x13, u32(0)),
        tlv(0x1b, Buffer.of(2)),
      ]);
      void this.send(encodeFrame({ address: ADDRESS, seq: f.seq, command: C.STATUS, body: status }));
      return;
    }
    if (f.command === C.TIME_SYNC) {
      if (verifiesUnder(this.toTerminal, f)) this.goodTimeSyncs++;
      else this.badTimeSyncs++;
      void this.send(encodeFrame({ address: ADDRESS, seq: f.seq, command: C.ACK, body: Buffer.alloc(0) }));
      return;
    }
    this.frames.push(f);
    for (const w of [...this.waiters]) {
      if (w.match(f)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(f);
      }
    }
  }

  send(bytes: Buffer): Promise<void> {
    return this.line.write(bytes);
  }

  /** Writes a request and resolves with the box's answer to its seq. */
  request(bytes: Buffer): Promise<Frame> {
    const seq = bytes[2]!;
    const answer = new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to seq ${seq}`)), 5000);
      this.waiters.push({
        match: (f) => f.seq === seq,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
    return this.send(bytes).then(() => answer);
  }

  async openSession(seq: number): Promise<void> {
    const nt = randomBytes(16);
    const open = Buffer.concat([tlv(0x1b, Buffer.of(2)), tlv(0x22, u16(1)), tlv(0x1c, nt)]);
    const challenge = await this.request(
      encodeFrame({ address: ADDRESS, seq, command: C.SESSION_OPEN, body: open }),
    );
    expect(challenge.command).toBe(C.SESSION_CHALLENGE);
    const nb = field(challenge.body, 0x1c)!;
    const addr = Buffer.of(ADDRESS);
    // The box proves it holds the key before the till proves anything.
    expect(field(challenge.body, 0x1d)).toEqual(hmac(KEY, label('SCW2-BOX'), addr, nt, nb));
    const proof = hmac(KEY, label('SCW2-TRM'), addr, nb, nt);
    const ack = await this.request(
      encodeFrame({ address: ADDRESS, seq: seq + 1, command: C.SESSION_CONFIRM, body: tlv(0x1d, proof) }),
    );
    expect(ack.command).toBe(C.ACK);
    this.toBox = hmac(KEY, label('SCW2-T2B'), addr, nt, nb);
    this.toTerminal = hmac(KEY, label('SCW2-B2T'), addr, nt, nb);
    this.counter = 0;
  }

  sale(seq: number, receiptNo: number): Buffer {
    return macFrame(this.toBox, seq, C.SALE_REQUEST, saleFields(receiptNo), ++this.counter);
  }
}

const nakReason = (f: Frame) => (f.command === C.NAK ? f.body[3] : `not a NAK: 0x${f.command.toString(16)}`);

let open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.reverse()) await close();
  open = [];
});

async function setUp(): Promise<{ till: V2Till; test: TestDriverContext; driver: DriverInstance }> {
  const dir = mkdtempSync(join(tmpdir(), 'pos-auth-'));
  const pair: PtyPair = await openPtyPair(dir);
  open.push(async () => {
    await pair.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const serial = createSerialTransportFactory();
  const test = createTestDriverContext({
    transports: serial,
    decideSale: (): SaleDecision => ({ outcome: 'approved', balanceFen: 100 }),
    terminalKeys: (id) => (id === 'till-1' ? [{ version: 1, key: KEY }] : []),
    saleStatus: (_id, receiptNo) =>
      receiptNo === 77 ? { state: 'approved', kind: 'sale', amountFen: 1250 } : { state: 'unknown' },
  });
  const config = canteenPosConfigSchema.parse({
    port: { path: pair.a, baudRate: 115200 },
    terminals: [{ id: 'till-1', address: ADDRESS }],
    ackTimeoutMs: 150,
    silenceTimeoutMs: 3000,
    pollIntervalMs: 50,
  });
  const driver = canteenPosDriver.create(test.ctx, config);
  open.push(async () => {
    await driver.stop();
    test.abort();
  });
  const line = await serial.open(
    { kind: 'serial', path: pair.b, baudRate: 115200 },
    new AbortController().signal,
  );
  open.push(() => line.close());
  const till = new V2Till(line);
  await driver.start();
  await test.waitForEvent((e) => e.type === 'terminal-up', 5000, 0);
  return { till, test, driver };
}

describe('canteen POS v2 over a pty: who may speak on the line', () => {
  it('charges nothing for a sale without a session, without a MAC, or with a forged MAC; charges a MAC-valid one', async () => {
    const { till, test } = await setUp();
    const bare = encodeFrame({ address: ADDRESS, seq: 1, command: C.SALE_REQUEST, body: saleFields(1) });
    expect(nakReason(await till.request(bare))).toBe(NAK.SESSION_REQUIRED);

    await till.openSession(2);
    const noMac = encodeFrame({ address: ADDRESS, seq: 4, command: C.SALE_REQUEST, body: saleFields(2) });
    expect(nakReason(await till.request(noMac))).toBe(NAK.MAC_INVALID);
    const forged = macFrame(randomBytes(32), 5, C.SALE_REQUEST, saleFields(3, 49_999), 1);
    expect(nakReason(await till.request(forged))).toBe(NAK.MAC_INVALID);
    expect(test.saleCalls).toHaveLength(0);
    await test.waitForEvent((e) => e.type === 'terminal-alert' && e.code === 'POS_MAC_INVALID', 5000, 0);
    await test.waitForEvent((e) => e.type === 'terminal-alert' && e.code === 'POS_SESSION_REQUIRED', 5000, 0);

    const answer = await till.request(till.sale(6, 4));
    expect(answer.command).toBe(C.SALE_RESULT);
    expect(verifiesUnder(till.toTerminal, answer)).toBe(true);
    expect(field(answer.body, 0x06)).toEqual(Buffer.of(0)); // RESULT approved
    expect(test.saleCalls.map((c) => c.sale.receiptNo)).toEqual([4]);
    // TIME_SYNC carries a MAC: none before the session, one under K_bt as soon as it is open
    await expect.poll(() => till.goodTimeSyncs, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    expect(till.badTimeSyncs).toBe(0);
  }, 30_000);

  it('answers a retransmission from the cache, and refuses the same captured frame once it has left the cache', async () => {
    const { till, test } = await setUp();
    await till.openSession(10);
    const captured = till.sale(20, 100);
    const first = await till.request(captured);
    expect(first.command).toBe(C.SALE_RESULT);
    // a retransmission (same bytes, same seq): the same answer, no second decision
    const again = await till.request(captured);
    expect(again.body).toEqual(first.body);
    expect(test.saleCalls).toHaveLength(1);
    // eight more sales push the captured frame out of the reply cache (capacity 8)
    for (let i = 1; i <= 8; i++)
      expect((await till.request(till.sale(20 + i, 100 + i))).command).toBe(C.SALE_RESULT);
    expect(test.saleCalls).toHaveLength(9);
    expect(nakReason(await till.request(captured))).toBe(NAK.REPLAYED);
    expect(test.saleCalls).toHaveLength(9);
    await test.waitForEvent((e) => e.type === 'terminal-alert' && e.code === 'POS_REPLAYED', 5000, 0);
    // the session still works after the attack
    expect((await till.request(till.sale(40, 200))).command).toBe(C.SALE_RESULT);
    expect(test.saleCalls).toHaveLength(10);
  }, 30_000);

  it('refuses a forged offline record (RESULT 2 RECORD_MAC_INVALID, nothing submitted) and raises a critical alert', async () => {
    const { till, test } = await setUp();
    await till.openSession(30);
    const recordFields = (receiptNo: number, amountFen: number) =>
      Buffer.concat([
        tlv(0x17, Buffer.of(0)),
        tlv(0x01, u32(receiptNo)),
        tlv(0x02, u32(amountFen)),
        tlv(0x03, CARD),
        tlv(0x05, u32(TIME() - 600)),
      ]);
    const genuine = recordFields(500, 1200);
    const invented = recordFields(501, 49_999);
    const records = Buffer.concat([
      tlv(0x0d, Buffer.concat([genuine, tlv(0x20, hmac(KEY, label('SCW2-REC'), genuine).subarray(0, 16))])),
      tlv(0x0d, Buffer.concat([invented, tlv(0x20, randomBytes(16))])),
    ]);
    const answer = await till.request(macFrame(till.toBox, 32, C.OFFLINE_UPLOAD, records, ++till.counter));
    expect(answer.command).toBe(C.UPLOAD_RESULT);
    expect(verifiesUnder(till.toTerminal, answer)).toBe(true);
    const results = (fieldsOf(answer.body).get(0x0e) ?? []).map((r) => ({
      receiptNo: field(r, 0x01)?.readUInt32BE(0),
      result: field(r, 0x06)?.[0],
      reason: field(r, 0x07)?.[0],
    }));
    expect(results).toEqual([
      { receiptNo: 500, result: 0, reason: undefined },
      { receiptNo: 501, result: 2, reason: 0x10 }, // RECORD_MAC_INVALID
    ]);
    expect(test.saleCalls.map((c) => [c.sale.receiptNo, c.sale.offline])).toEqual([[500, true]]);
    const alert = await test.waitForEvent(
      (e) => e.type === 'terminal-alert' && e.code === 'POS_RECORD_MAC_INVALID',
      5000,
      0,
    );
    expect(alert).toMatchObject({ severity: 'critical' });
  }, 30_000);

  it('answers SALE_STATUS_QUERY from the agent under the session MAC, and ignores a SALE_RESULT sent by a till', async () => {
    const { till, test } = await setUp();
    await till.openSession(50);
    const status = await till.request(
      macFrame(till.toBox, 52, C.SALE_STATUS_QUERY, tlv(0x01, u32(77)), ++till.counter),
    );
    expect(status.command).toBe(C.SALE_STATUS);
    expect(verifiesUnder(till.toTerminal, status)).toBe(true);
    expect(field(status.body, 0x21)).toEqual(Buffer.of(0)); // approved
    expect(field(status.body, 0x02)?.readUInt32BE(0)).toBe(1250);
    const since = test.events.length;
    await till.send(
      encodeFrame({ address: ADDRESS, seq: 53, command: C.SALE_RESULT, body: tlv(0x01, u32(1)) }),
    );
    await test.waitForEvent(
      (e) => e.type === 'frame-error' && e.code === 'POS_UNEXPECTED_COMMAND',
      5000,
      since,
    );
    // …and then a normal request is answered: nothing was NAKed for the SALE_RESULT in between
    expect((await till.request(till.sale(54, 300))).command).toBe(C.SALE_RESULT);
    expect(till.frames.filter((f) => f.seq === 53)).toHaveLength(0);
  }, 30_000);

  it('ends the session when the till goes silent: its next MAC frame needs a new session', async () => {
    const { till, test } = await setUp();
    await till.openSession(60);
    expect((await till.request(till.sale(62, 400))).command).toBe(C.SALE_RESULT);
    const since = test.events.length;
    till.silent = true;
    await test.waitForEvent((e) => e.type === 'terminal-down', 10_000, since);
    till.silent = false;
    await test.waitForEvent((e) => e.type === 'terminal-up', 10_000, since);
    expect(nakReason(await till.request(till.sale(63, 401)))).toBe(NAK.SESSION_REQUIRED);
    await till.openSession(64);
    expect((await till.request(till.sale(66, 402))).command).toBe(C.SALE_RESULT);
    expect(test.saleCalls.map((c) => c.sale.receiptNo)).toEqual([400, 402]);
  }, 30_000);
});
