import { DriverError } from '../driver-error.ts';

/**
 * The vendor report of our card readers (docs/protocols/hid-vendor-report.md): one input report per
 * card read, on a vendor-defined usage page, so the reader types nothing into the host's console.
 *
 *   0  report id   0x02 (CARD_READ)
 *   1  length L    bytes that follow up to the checksum: card type + UID, so L = 1 + UID length (5..11)
 *   2  card type   CARD_TYPES below
 *   3  UID         L-1 bytes, in the order the chip sends them in anticollision (ISO 14443-3)
 *   2+L  checksum  XOR of bytes 1 .. 1+L (length, type and UID)
 *   ..  padding    up to the report size the descriptor declares; ignored
 *
 * USB already guards every packet with a CRC16; the checksum only catches a reader firmware that
 * fills the report wrongly, for which a one-byte BCC (as in most reader protocols) suffices.
 */
export const REPORT_ID_CARD_READ = 0x02;
export const MIN_UID_BYTES = 4;
export const MAX_UID_BYTES = 10;

export const CARD_TYPES = {
  1: 'iso14443a',
  2: 'iso14443b',
  3: 'iso15693',
  4: 'em4100',
  5: 'felica',
} as const;
export type CardType = (typeof CARD_TYPES)[keyof typeof CARD_TYPES];

export interface VendorCardRead {
  cardType: CardType;
  /** Upper-case hex, as PaymentCredential wants it. */
  uidHex: string;
}

function typeName(code: number): CardType | undefined {
  return (CARD_TYPES as Record<number, CardType | undefined>)[code];
}

/** Decodes one input report; every reject is a DriverError with a stable HID_VENDOR_* / HID_REPORT_* code. */
export function decodeVendorReport(report: Uint8Array): VendorCardRead {
  if (report.length < 3)
    throw new DriverError('HID_REPORT_SHORT', `vendor report is ${report.length} bytes, need at least 3`);
  const id = report[0] ?? 0;
  if (id !== REPORT_ID_CARD_READ) {
    throw new DriverError('HID_VENDOR_REPORT_ID', `report id 0x${id.toString(16)} is not CARD_READ (0x02)`);
  }
  const length = report[1] ?? 0;
  const uidLength = length - 1;
  if (uidLength < MIN_UID_BYTES || uidLength > MAX_UID_BYTES) {
    throw new DriverError(
      'HID_VENDOR_LENGTH',
      `length ${length} gives a ${uidLength}-byte UID, expected 4..10`,
    );
  }
  if (report.length < 3 + length) {
    throw new DriverError(
      'HID_REPORT_SHORT',
      `vendor report is ${report.length} bytes, length ${length} needs ${3 + length}`,
    );
  }
  let bcc = 0;
  for (let i = 1; i <= 1 + length; i++) bcc ^= report[i] ?? 0;
  const checksum = report[2 + length] ?? 0;
  if (bcc !== checksum) {
    throw new DriverError(
      'HID_VENDOR_CHECKSUM',
      `checksum 0x${checksum.toString(16)} != computed 0x${bcc.toString(16)}`,
    );
  }
  const type = report[2] ?? 0;
  const cardType = typeName(type);
  if (!cardType)
    throw new DriverError('HID_VENDOR_CARD_TYPE', `card type 0x${type.toString(16)} is not known`);
  return {
    cardType,
    uidHex: Buffer.from(report.subarray(3, 2 + length))
      .toString('hex')
      .toUpperCase(),
  };
}

/** Reader side, for tests and simulators: a CARD_READ report padded to `reportSize` bytes. */
export function encodeVendorReport(read: VendorCardRead, reportSize = 32): Uint8Array {
  const uid = Buffer.from(read.uidHex, 'hex');
  const code = Number(Object.entries(CARD_TYPES).find(([, name]) => name === read.cardType)?.[0]);
  if (
    uid.length < MIN_UID_BYTES ||
    uid.length > MAX_UID_BYTES ||
    uid.toString('hex').toUpperCase() !== read.uidHex.toUpperCase()
  ) {
    throw new DriverError('HID_VENDOR_LENGTH', 'UID must be 4..10 bytes of hex');
  }
  const length = 1 + uid.length;
  const report = new Uint8Array(Math.max(reportSize, 3 + length));
  report[0] = REPORT_ID_CARD_READ;
  report[1] = length;
  report[2] = code;
  report.set(uid, 3);
  let bcc = 0;
  for (let i = 1; i <= 1 + length; i++) bcc ^= report[i] ?? 0;
  report[2 + length] = bcc;
  return report;
}
