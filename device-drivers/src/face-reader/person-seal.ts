import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * The `persons` sealed fields (docs/protocols/face-reader.md §4): SM4-CBC, PKCS#7, a fresh IV each,
 * under a key of the reader's own: HMAC-SM3 of the reader's provisioned terminal key (`sceneway terminal
 * provision <readerId>`, 32 bytes) with a fixed label, first 16 bytes. One label per use, so the
 * provisioned key itself is never an SM4 key. Both sides (box and reader) derive it the same way.
 */
export const PERSONS_KEY_LABEL = 'sceneway.face-reader.persons.v1';

export function personsKeyOf(terminalKey: Uint8Array): Buffer {
  return createHmac('sm3', terminalKey).update(PERSONS_KEY_LABEL).digest().subarray(0, 16);
}

export function sealPersonField(key: Buffer, value: Uint8Array): { iv: string; ct: string } {
  const iv = randomBytes(16);
  const cipher = createCipheriv('sm4-cbc', key, iv);
  const ct = Buffer.concat([cipher.update(value), cipher.final()]);
  return { iv: iv.toString('base64'), ct: ct.toString('base64') };
}

/** Throws on a wrong key or altered bytes (bad padding). */
export function openPersonField(key: Buffer, field: { iv: string; ct: string }): Buffer {
  const decipher = createDecipheriv('sm4-cbc', key, Buffer.from(field.iv, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(field.ct, 'base64')), decipher.final()]);
}
