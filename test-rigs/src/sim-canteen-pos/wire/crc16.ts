/**
 * CRC-16/CCITT-FALSE exactly as docs/protocols/canteen-pos.md §2.1 prints it (poly 0x1021, init 0xFFFF,
 * no reflection, no final XOR; check value 0x29B1), bit by bit like the document's C, not the driver's
 * table: the terminal side is written from the page, so a shared slip cannot hide.
 */
export function crc16CcittFalse(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]! << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}
