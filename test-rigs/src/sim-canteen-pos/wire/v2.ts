import { createHmac, timingSafeEqual } from 'node:crypto';
import { MAC_BYTES, Tag } from './codes.ts';
import { HEADER_BYTES } from './frame.ts';
import { splitTlv } from './tlv.ts';

/**
 * Protocol v2 security of docs/protocols/canteen-pos.md §12, from the document: HMAC-SM3 proofs and
 * session keys, the frame MAC over ADDR..MAC_COUNTER, and the offline record MAC under the till key.
 */
export const TILL_KEY_BYTES = 32;
/** MAC_COUNTER field (3 + 4) and MAC field (3 + 16): the last 26 bytes of a MAC'd body. */
export const COUNTER_FIELD_BYTES = 7;
export const MAC_FIELD_BYTES = 3 + MAC_BYTES;

export interface TillKey {
  version: number;
  key: Buffer;
}

export function hmacSm3(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('sm3', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

const label = (s: string) => Buffer.from(s, 'ascii');
const addr = (address: number) => Buffer.from([address]);

/** Key check value: the first 3 bytes of HMAC-SM3(K_t, "SCW2-KCV"), in hex, shown with the key at provisioning. */
export function keyCheckValue(key: Uint8Array): string {
  return hmacSm3(key, label('SCW2-KCV')).subarray(0, 3).toString('hex').toUpperCase();
}

/** PB: the box proves the till key. */
export function boxProof(key: Uint8Array, address: number, nt: Uint8Array, nb: Uint8Array): Buffer {
  return hmacSm3(key, label('SCW2-BOX'), addr(address), nt, nb);
}

/** PT: the terminal proves the till key (note the nonces' order: Nb then Nt). */
export function terminalProof(key: Uint8Array, address: number, nt: Uint8Array, nb: Uint8Array): Buffer {
  return hmacSm3(key, label('SCW2-TRM'), addr(address), nb, nt);
}

export interface SessionKeys {
  /** Terminal → box frames. */
  kTb: Buffer;
  /** Box → terminal frames. */
  kBt: Buffer;
}

export function sessionKeys(key: Uint8Array, address: number, nt: Uint8Array, nb: Uint8Array): SessionKeys {
  return {
    kTb: hmacSm3(key, label('SCW2-T2B'), addr(address), nt, nb),
    kBt: hmacSm3(key, label('SCW2-B2T'), addr(address), nt, nb),
  };
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** MAC of a frame: HMAC-SM3 over ADDR SEQ CMD LEN(as sent) and the body up to the MAC_COUNTER field, first 16 bytes. */
export function frameMac(
  key: Uint8Array,
  address: number,
  seq: number,
  command: number,
  macInput: Buffer,
  sentLength: number,
): Buffer {
  const head = Buffer.from([address, seq, command, sentLength >> 8, sentLength & 0xff]);
  return hmacSm3(key, head, macInput).subarray(0, MAC_BYTES);
}

/** The message's fields ‖ MAC_COUNTER ‖ MAC: the body of a MAC'd frame. */
export function sealBody(
  key: Uint8Array,
  frame: { address: number; seq: number; command: number },
  fields: Buffer,
  counter: number,
): Buffer {
  if (!Number.isInteger(counter) || counter < 1 || counter > 0xffffffff)
    throw new RangeError(`MAC_COUNTER ${counter} outside 1..0xFFFFFFFF`);
  const withCounter = Buffer.alloc(fields.length + COUNTER_FIELD_BYTES);
  fields.copy(withCounter);
  withCounter[fields.length] = Tag.MAC_COUNTER;
  withCounter.writeUInt16BE(4, fields.length + 1);
  withCounter.writeUInt32BE(counter, fields.length + 3);
  const sentLength = withCounter.length + MAC_FIELD_BYTES;
  const mac = frameMac(key, frame.address, frame.seq, frame.command, withCounter, sentLength);
  return Buffer.concat([withCounter, Buffer.from([Tag.MAC, 0, MAC_BYTES]), mac]);
}

export type OpenedBody = { ok: true; counter: number; fields: Buffer } | { ok: false; why: string };

/**
 * Checks a MAC'd body: MAC_COUNTER and MAC present, the last two fields in that order, and the MAC
 * right. Counter freshness is the caller's (it knows the last counter it accepted).
 */
export function openBody(
  key: Uint8Array,
  frame: { address: number; seq: number; command: number; body: Buffer },
): OpenedBody {
  let items: ReturnType<typeof splitTlv>;
  try {
    items = splitTlv(frame.body);
  } catch {
    return { ok: false, why: 'malformed TLV' };
  }
  const mac = items[items.length - 1];
  const counter = items[items.length - 2];
  if (mac?.tag !== Tag.MAC || counter?.tag !== Tag.MAC_COUNTER)
    return { ok: false, why: 'MAC_COUNTER and MAC are not the last two fields' };
  if (mac.value.length !== MAC_BYTES || counter.value.length !== 4)
    return { ok: false, why: 'MAC_COUNTER or MAC has the wrong width' };
  if (items.some((i, n) => n < items.length - 2 && (i.tag === Tag.MAC || i.tag === Tag.MAC_COUNTER))) {
    return { ok: false, why: 'MAC field repeated' };
  }
  const covered = frame.body.subarray(0, mac.at);
  const expected = frameMac(key, frame.address, frame.seq, frame.command, covered, frame.body.length);
  if (!sameBytes(expected, mac.value)) return { ok: false, why: 'MAC does not verify' };
  return {
    ok: true,
    counter: counter.value.readUInt32BE(0),
    fields: Buffer.from(frame.body.subarray(0, counter.at)),
  };
}

/** RECORD_MAC: the first 16 bytes of HMAC-SM3(K_t, "SCW2-REC" ‖ the RECORD's fields before it). */
export function recordMac(key: Uint8Array, recordFields: Buffer): Buffer {
  return hmacSm3(key, label('SCW2-REC'), recordFields).subarray(0, MAC_BYTES);
}

/** Where a frame's header ends: used by tests that cut frames apart. */
export const BODY_OFFSET = HEADER_BYTES;
