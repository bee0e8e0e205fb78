import type { PaymentCredential } from '../driver-api.ts';
import { DriverError } from '../driver-error.ts';

/**
 * What a keyboard-wedge read means. Card readers type the chip UID, as hex (most) or as a decimal
 * number (the "8H10D" setting: the 4-byte UID as one unsigned number, big-endian, zero-padded to 10
 * digits); the installer sets which in `cardText`, because "0012345678" is valid as both. QR readers
 * type the token itself, printable ASCII. Anything else is a DriverError the driver reports as a
 * frame-error, never a guess.
 */
export type CardTextFormat = 'hex' | 'decimal';

const HEX_UID = /^(?:[0-9A-Fa-f]{2}){4,10}$/;
const DECIMAL_UID = /^\d{1,25}$/;
const PRINTABLE = /^[\x21-\x7e]+$/;
export const MAX_TOKEN_LENGTH = 512;
const MAX_UID = (1n << 80n) - 1n;

export function credentialFromText(text: string, cardText: CardTextFormat): PaymentCredential {
  if (cardText === 'hex' && HEX_UID.test(text)) return { kind: 'card', uidHex: text.toUpperCase() };
  if (cardText === 'decimal' && DECIMAL_UID.test(text)) {
    const value = BigInt(text);
    if (value > MAX_UID)
      throw new DriverError('HID_WEDGE_TEXT', `decimal card number has more than 10 bytes`);
    let hex = value.toString(16).toUpperCase();
    if (hex.length % 2 === 1) hex = `0${hex}`;
    return { kind: 'card', uidHex: hex.padStart(8, '0') };
  }
  // A QR token cannot be all digits of card length in decimal mode, nor short hex in hex mode:
  // those were taken above. The rest must at least be something a POS frame can carry.
  if (text.length <= MAX_TOKEN_LENGTH && text.length >= 16 && PRINTABLE.test(text))
    return { kind: 'qr', token: text };
  throw new DriverError(
    'HID_WEDGE_TEXT',
    `read of ${text.length} characters is neither a ${cardText} card UID nor a QR token (16-512 printable ASCII)`,
  );
}
