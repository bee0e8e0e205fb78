import { createHmac, timingSafeEqual } from 'node:crypto';
import { encodeFrame, HEADER_LENGTH } from './framing.ts';
import { MAC_BYTES, MAC_TRAILER_BYTES, Tag } from './messages.ts';

/**
 * The MACs of canteen POS protocol v2 (pos-v2-contract.md; docs/decisions.md, HMAC-SM3): pure
 * functions, bytes in and bytes out. HMAC-SM3 is RFC 2104 HMAC over SM3 (GB/T 32905), Node's
 * `createHmac('sm3', key)`; every comparison of a received MAC or proof is constant-time.
 */

const LABEL = {
  box: 'SCW2-BOX',
  terminal: 'SCW2-TRM',
  toBox: 'SCW2-T2B',
  toTerminal: 'SCW2-B2T',
  record: 'SCW2-REC',
  kcv: 'SCW2-KCV',
} as const;

export const MAX_MAC_COUNTER = 0xffffffff;

export function hmacSm3(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('sm3', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

const label = (text: string) => Buffer.from(text, 'latin1');
const addr = (address: number) => Buffer.of(address);

/** Same length and same bytes, in time that does not depend on where they differ. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** KCV: hex of the first 3 bytes of HMAC-SM3(K_t, "SCW2-KCV"); the installer compares it with the till's. */
export function keyCheckValue(key: Uint8Array): string {
  return hmacSm3(key, label(LABEL.kcv)).subarray(0, 3).toString('hex').toUpperCase();
}

/** PB = HMAC-SM3(K_t, "SCW2-BOX" ‖ ADDR ‖ Nt ‖ Nb): the box proves it holds the till's key. */
export function boxProof(key: Uint8Array, address: number, nt: Uint8Array, nb: Uint8Array): Buffer {
  return hmacSm3(key, label(LABEL.box), addr(address), nt, nb);
}

/** PT = HMAC-SM3(K_t, "SCW2-TRM" ‖ ADDR ‖ Nb ‖ Nt): the till proves it holds its key. */
export function terminalProof(key: Uint8Array, address: number, nt: Uint8Array, nb: Uint8Array): Buffer {
  return hmacSm3(key, label(LABEL.terminal), addr(address), nb, nt);
}

export interface SessionKeys {
  /** terminal → box frames */
  toBox: Buffer;
  /** box → terminal frames */
  toTerminal: Buffer;
}

export function sessionKeys(key: Uint8Array, address: number, nt: Uint8Array, nb: Uint8Array): SessionKeys {
  return {
    toBox: hmacSm3(key, label(LABEL.toBox), addr(address), nt, nb),
    toTerminal: hmacSm3(key, label(LABEL.toTerminal), addr(address), nt, nb),
  };
}

/** RECORD_MAC = first 16 bytes of HMAC-SM3(K_t, "SCW2-REC" ‖ the RECORD's TLV bytes before RECORD_MAC). */
export function recordMac(key: Uint8Array, signedFields: Uint8Array): Buffer {
  return hmacSm3(key, label(LABEL.record), signedFields).subarray(0, MAC_BYTES);
}

function macOver(key: Uint8Array, header: Uint8Array, bodyUpToCounter: Uint8Array): Buffer {
  return hmacSm3(key, header, bodyUpToCounter).subarray(0, MAC_BYTES);
}

/** ADDR ‖ SEQ ‖ CMD ‖ LEN as sent (LEN counts the MAC fields). */
function headerBytes(address: number, seq: number, command: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_LENGTH - 1);
  h[0] = address;
  h[1] = seq;
  h[2] = command;
  h.writeUInt16BE(length, 3);
  return h;
}

/**
 * A MAC'd frame: the message's own fields ‖ `1E 00 04 <counter>` ‖ `1F 00 10 <MAC>`, the MAC over
 * ADDR ‖ SEQ ‖ CMD ‖ LEN ‖ the body up to and including the MAC_COUNTER field.
 */
export function sealFrame(opts: {
  key: Uint8Array;
  address: number;
  seq: number;
  command: number;
  fields: Uint8Array;
  counter: number;
}): Buffer {
  const { counter } = opts;
  if (!Number.isInteger(counter) || counter < 1 || counter > MAX_MAC_COUNTER) {
    throw new RangeError(`MAC_COUNTER ${counter} is outside 1..${MAX_MAC_COUNTER}`);
  }
  const upToCounter = Buffer.allocUnsafe(opts.fields.length + 7);
  upToCounter.set(opts.fields, 0);
  upToCounter[opts.fields.length] = Tag.MAC_COUNTER;
  upToCounter.writeUInt16BE(4, opts.fields.length + 1);
  upToCounter.writeUInt32BE(counter, opts.fields.length + 3);
  const length = upToCounter.length + 3 + MAC_BYTES;
  const mac = macOver(opts.key, headerBytes(opts.address, opts.seq, opts.command, length), upToCounter);
  const body = Buffer.concat([upToCounter, Buffer.of(Tag.MAC, 0, MAC_BYTES), mac]);
  return encodeFrame({ address: opts.address, seq: opts.seq, command: opts.command, body });
}

export type MacCheck =
  | { ok: true; counter: number; fields: Buffer }
  | { ok: false; why: 'missing' | 'bad-mac'; detail: string };

/**
 * Whether the last two TLV fields of a frame's body are MAC_COUNTER (4 bytes) and MAC (16 bytes), in
 * that order; and a walk of the whole body, so bytes that merely look like them inside another field's
 * value are not taken for them. Never throws.
 */
export function hasMacTrailer(body: Uint8Array): boolean {
  if (body.length < MAC_TRAILER_BYTES) return false;
  const b = Buffer.from(body.buffer, body.byteOffset, body.length);
  const counterAt = b.length - MAC_TRAILER_BYTES;
  let at = 0;
  while (at < counterAt) {
    if (counterAt - at < 3) return false;
    at += 3 + b.readUInt16BE(at + 1);
  }
  return (
    at === counterAt &&
    b[counterAt] === Tag.MAC_COUNTER &&
    b.readUInt16BE(counterAt + 1) === 4 &&
    b[counterAt + 7] === Tag.MAC &&
    b.readUInt16BE(counterAt + 8) === MAC_BYTES
  );
}

/** Checks a received MAC'd frame under `key`; on success returns its counter and the body without the MAC fields. */
export function openFrame(
  key: Uint8Array,
  frame: { address: number; seq: number; command: number; body: Buffer },
): MacCheck {
  if (!hasMacTrailer(frame.body)) {
    return { ok: false, why: 'missing', detail: 'MAC_COUNTER and MAC are not the last two fields' };
  }
  const { body } = frame;
  const macAt = body.length - MAC_BYTES;
  const upToCounter = body.subarray(0, macAt - 3);
  const expected = macOver(
    key,
    headerBytes(frame.address, frame.seq, frame.command, body.length),
    upToCounter,
  );
  if (!sameBytes(body.subarray(macAt), expected)) {
    return { ok: false, why: 'bad-mac', detail: 'the frame MAC does not verify under the session key' };
  }
  return {
    ok: true,
    counter: body.readUInt32BE(body.length - MAC_TRAILER_BYTES + 3),
    fields: body.subarray(0, body.length - MAC_TRAILER_BYTES),
  };
}
