/**
 * CRC-16/IBM-3740, better known as CRC-16/CCITT-FALSE: width 16, poly 0x1021, init 0xFFFF,
 * refin=false, refout=false, xorout 0x0000, check("123456789") = 0x29B1 (Greenberg's CRC catalogue).
 * It is the CRC most canteen POS firmwares already carry (it is the one in the ST/NXP HAL examples),
 * so a terminal vendor does not need new code. Covered bytes: see docs/protocols/canteen-pos.md.
 */
export const CRC16_CHECK_VALUE = 0x29b1;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    table[n] = c;
  }
  return table;
})();

/** CRC of bytes[start, end); the range form lets the parser check a frame in place without copying. */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >>> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}
