import { sm3Hex } from '@sceneway/cloud-sync';

/**
 * What an installer reads aloud to the bank to confirm a public key out of band (enrolment.ts): the SM3
 * of the key's bytes, in groups of four. Its first 16 digits are the short form the bank logs at a key
 * rotation (cloud-sync bank/key-rotation.ts).
 */
export function keyFingerprint(publicKeyHex: string): string {
  const digest = sm3Hex(Buffer.from(publicKeyHex, 'hex'));
  return digest.match(/.{4}/g)!.join(' ');
}
