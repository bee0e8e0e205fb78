import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TerminalKey } from '../driver-api.ts';
import { encodeMessage } from './codec.ts';
import {
  boxProof,
  hasMacTrailer,
  keyCheckValue,
  openFrame,
  sealFrame,
  sessionKeys,
  terminalProof,
} from './frame-mac.ts';
import { createFrameParser, type Frame } from './framing.ts';
import { Command, type PosMessageOf } from './messages.ts';
import { type AuthRefusal, SessionAuth } from './session-auth.ts';

/**
 * The box's session state machine against a till written here from the contract's formulas
 * (pos-v2-contract.md, Session): handshake, per-direction counters, and every refusal.
 */
const ADDRESS = 1;
const K1: TerminalKey = { version: 1, key: Buffer.alloc(32, 0x11) };
const K2: TerminalKey = { version: 2, key: Buffer.alloc(32, 0x22) };

function parse(wire: Buffer): Frame {
  const [frame] = createFrameParser().push(wire);
  if (frame?.kind !== 'frame') throw new Error('not a frame');
  return frame;
}

/** A till holding `key`: opens a session with the box and MACs its frames as the contract says. */
function till(auth: SessionAuth, key: TerminalKey) {
  const nt = randomBytes(16);
  let counter = 0;
  let toBox: Buffer | undefined;
  let toTerminal: Buffer | undefined;
  return {
    nt,
    open(): PosMessageOf<'session-challenge'> | AuthRefusal {
      return auth.open({ type: 'session-open', protocolVersion: 2, keyVersion: key.version, nonce: nt });
    },
    confirmFor(challenge: PosMessageOf<'session-challenge'>) {
      // The till checks the box's proof first: the box holds the key too.
      expect(challenge.proof).toEqual(boxProof(key.key, ADDRESS, nt, challenge.nonce));
      const keys = sessionKeys(key.key, ADDRESS, nt, challenge.nonce);
      toBox = keys.toBox;
      toTerminal = keys.toTerminal;
      counter = 0;
      return auth.confirm({
        type: 'session-confirm',
        proof: terminalProof(key.key, ADDRESS, nt, challenge.nonce),
      });
    },
    handshake() {
      const challenge = this.open();
      if ('code' in challenge) throw new Error(challenge.detail);
      expect(this.confirmFor(challenge)).toBeNull();
    },
    sale(receiptNo: number, seq = receiptNo & 0xff, atCounter = ++counter): Frame {
      const { command, body } = encodeMessage({
        type: 'sale-request',
        receiptNo,
        amountFen: 100,
        credential: { kind: 'card', uidHex: '04A1B2C3' },
        terminalTime: 1_767_240_000,
      });
      return parse(
        sealFrame({ key: toBox!, address: ADDRESS, seq, command, fields: body, counter: atCounter }),
      );
    },
    readAnswer(wire: Buffer) {
      return openFrame(toTerminal!, parse(wire));
    },
  };
}

const box = (keys: TerminalKey[] = [K2, K1]) => new SessionAuth(ADDRESS, () => keys);
const refusalOf = (r: unknown) =>
  r && typeof r === 'object' && 'code' in r ? (r as AuthRefusal).code : 'accepted';

describe('v2 session handshake', () => {
  it('opens a session with either held key version and answers under the box key with its own counter', () => {
    for (const key of [K1, K2]) {
      const auth = box();
      const t = till(auth, key);
      t.handshake();
      expect(auth.isOpen).toBe(true);
      const checked = auth.check(t.sale(1));
      if ('code' in checked) throw new Error(checked.detail);
      const { command, body } = encodeMessage({
        type: 'sale-result',
        receiptNo: 1,
        decision: { outcome: 'approved' },
        displayText: '',
      });
      const answer = checked.channel.seal(1, command, body);
      const opened = t.readAnswer(answer);
      expect(opened).toMatchObject({ ok: true, counter: 1 });
      expect(openFrame(Buffer.alloc(32), parse(answer)).ok).toBe(false);
    }
  });

  it('refuses SESSION_OPEN with no key, an unknown key version, or another protocol', () => {
    expect(refusalOf(till(box([]), K1).open())).toBe('POS_AUTH_FAILED');
    expect(refusalOf(till(box([K1]), K2).open())).toBe('POS_AUTH_FAILED');
    expect(
      refusalOf(
        box().open({ type: 'session-open', protocolVersion: 1, keyVersion: 1, nonce: randomBytes(16) }),
      ),
    ).toBe('POS_AUTH_FAILED');
  });

  it('refuses a wrong proof, and spends the challenge so the right proof cannot follow', () => {
    const auth = box();
    const t = till(auth, K1);
    const challenge = t.open();
    if ('code' in challenge) throw new Error(challenge.detail);
    expect(refusalOf(auth.confirm({ type: 'session-confirm', proof: Buffer.alloc(32) }))).toBe(
      'POS_AUTH_FAILED',
    );
    expect(refusalOf(t.confirmFor(challenge))).toBe('POS_AUTH_FAILED');
    expect(auth.isOpen).toBe(false);
  });

  it('refuses CONFIRM without a challenge outstanding', () => {
    expect(refusalOf(box().confirm({ type: 'session-confirm', proof: Buffer.alloc(32) }))).toBe(
      'POS_AUTH_FAILED',
    );
  });

  it("keeps the working session until a new one is confirmed: a stranger's SESSION_OPEN ends nothing", () => {
    const auth = box();
    const t = till(auth, K1);
    t.handshake();
    const stranger = till(auth, K1); // knows the protocol, not the key: it cannot confirm
    expect(refusalOf(stranger.open())).toBe('accepted');
    expect(refusalOf(auth.confirm({ type: 'session-confirm', proof: Buffer.alloc(32) }))).toBe(
      'POS_AUTH_FAILED',
    );
    expect(refusalOf(auth.check(t.sale(1)))).toBe('accepted');
  });

  it('a new confirmed session restarts the counters and retires the old keys', () => {
    const auth = box();
    const first = till(auth, K1);
    first.handshake();
    expect(refusalOf(auth.check(first.sale(1, 1, 50)))).toBe('accepted');
    const old = first.sale(2, 2, 51);
    const second = till(auth, K1);
    second.handshake();
    expect(refusalOf(auth.check(old))).toBe('POS_MAC_INVALID');
    expect(refusalOf(auth.check(second.sale(3, 3, 1)))).toBe('accepted');
  });
});

describe('v2 frame checks', () => {
  it('SESSION_REQUIRED without a session, with or without MAC fields; and after the session ends', () => {
    const auth = box();
    const t = till(auth, K1);
    t.handshake();
    const frame = t.sale(1);
    auth.end();
    expect(refusalOf(auth.check(frame))).toBe('POS_SESSION_REQUIRED');
    const bare = parse(
      Buffer.from(
        sealFrame({
          key: Buffer.alloc(32),
          address: 1,
          seq: 1,
          command: Command.SALE_REQUEST,
          fields: Buffer.alloc(0),
          counter: 1,
        }),
      ),
    );
    expect(refusalOf(box().check({ ...bare, body: Buffer.alloc(0) }))).toBe('POS_SESSION_REQUIRED');
  });

  it('MAC_INVALID for a missing, misplaced or forged MAC, and for a changed byte anywhere in header or body', () => {
    const auth = box();
    const t = till(auth, K1);
    t.handshake();
    const good = t.sale(7);
    expect(refusalOf(auth.check({ ...good, body: good.body.subarray(0, good.body.length - 19) }))).toBe(
      'POS_MAC_INVALID',
    );
    // MAC fields present but followed by another field
    const trailing = Buffer.concat([good.body, Buffer.from('F00000', 'hex')]);
    expect(hasMacTrailer(trailing)).toBe(false);
    expect(refusalOf(auth.check({ ...good, body: trailing }))).toBe('POS_MAC_INVALID');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: good.body.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (at, flip) => {
          const body = Buffer.from(good.body);
          body[at]! ^= flip;
          expect(refusalOf(auth.check({ ...good, body }))).not.toBe('accepted');
        },
      ),
      { numRuns: 200 },
    );
    expect(refusalOf(auth.check({ ...good, seq: good.seq ^ 1 }))).toBe('POS_MAC_INVALID');
    expect(refusalOf(auth.check({ ...good, address: 2 }))).toBe('POS_MAC_INVALID');
    expect(refusalOf(auth.check({ ...good, command: Command.VOID_REQUEST }))).toBe('POS_MAC_INVALID');
    // the untouched frame is still good: refusals consumed no counter
    expect(refusalOf(auth.check(good))).toBe('accepted');
  });

  it('REPLAYED for a repeated or reordered counter; gaps (lost frames) are fine', () => {
    const auth = box();
    const t = till(auth, K1);
    t.handshake();
    const f1 = t.sale(1, 1, 1);
    const f2 = t.sale(2, 2, 2);
    const f5 = t.sale(5, 5, 5);
    expect(refusalOf(auth.check(f1))).toBe('accepted');
    expect(refusalOf(auth.check(f1))).toBe('POS_REPLAYED');
    expect(refusalOf(auth.check(f5))).toBe('accepted');
    expect(refusalOf(auth.check(f2))).toBe('POS_REPLAYED');
  });

  it('never wraps a counter: at 0xFFFFFFFF the box refuses to seal and ends the session; the till cannot go past it', () => {
    const auth = box();
    const t = till(auth, K1);
    t.handshake();
    const checked = auth.check(t.sale(1));
    if ('code' in checked) throw new Error(checked.detail);
    auth.exhaustCountersForTest();
    expect(refusalOf(auth.check(t.sale(2, 2, 0xffffffff)))).toBe('POS_REPLAYED');
    expect(() => checked.channel.seal(1, Command.SALE_RESULT, Buffer.alloc(0))).toThrowError(
      expect.objectContaining({ code: 'POS_SESSION_REQUIRED' }),
    );
    expect(auth.isOpen).toBe(false);
    expect(() =>
      sealFrame({
        key: Buffer.alloc(32),
        address: 1,
        seq: 1,
        command: 0x41,
        fields: Buffer.alloc(0),
        counter: 0x1_0000_0000,
      }),
    ).toThrowError(RangeError);
  });
});

describe('key check value', () => {
  it('is the first 3 bytes of HMAC-SM3(K, "SCW2-KCV") in hex, and tells keys apart', () => {
    expect(keyCheckValue(K1.key)).toMatch(/^[0-9A-F]{6}$/);
    expect(keyCheckValue(K1.key)).not.toBe(keyCheckValue(K2.key));
  });
});
