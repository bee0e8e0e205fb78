/**
 * A small but well-formed baseline JPEG (one 8x8 grey block): SOI, JFIF APP0, a quantisation table,
 * a frame header, Huffman tables, one scan, EOI. A COM segment carries the event it was "taken" for,
 * so two snapshots differ and the driver's digest addressing can be checked.
 */
const SEGMENTS_AFTER_COMMENT = Buffer.from(
  [
    // DQT: table 0, all ones
    [0xff, 0xdb, 0x00, 0x43, 0x00, ...new Array(64).fill(0x01)],
    // SOF0: 8-bit, 8x8, one component (id 1, 1x1 sampling, table 0)
    [0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00],
    // DHT DC table 0: one code of length 1 for category 0
    [0xff, 0xc4, 0x00, 0x14, 0x00, 0x01, ...new Array(15).fill(0x00), 0x00],
    // DHT AC table 0: one code of length 1 for EOB (0x00)
    [0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, ...new Array(15).fill(0x00), 0x00],
    // SOS: one component, tables 0/0, spectral 0..63
    [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00],
    // entropy-coded data: DC diff category 0 ("0"), EOB ("0"), padded with ones
    [0x3f],
    // EOI
    [0xff, 0xd9],
  ].flat(),
);

const HEAD = Buffer.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
  0x00, 0x00,
]);

export function snapshotJpeg(comment: string): Buffer {
  const text = Buffer.from(comment, 'utf8').subarray(0, 60_000);
  const com = Buffer.alloc(4);
  com.writeUInt16BE(0xfffe, 0);
  com.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([HEAD, com, text, SEGMENTS_AFTER_COMMENT]);
}
