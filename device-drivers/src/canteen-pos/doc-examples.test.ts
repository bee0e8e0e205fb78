import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from './codec.ts';
import { CRC16_CHECK_VALUE } from './crc16.ts';
import { hasMacTrailer, keyCheckValue, openFrame, recordMac, sealFrame, sessionKeys } from './frame-mac.ts';
import { createFrameParser, encodeFrame } from './framing.ts';
import { Command, DeclineReason, NakReason, Tag } from './messages.ts';

/**
 * docs/protocols/canteen-pos.md is the contract a terminal vendor codes against: every example frame
 * in it must be a valid frame that this codec decodes and encodes back to the same bytes, and its code
 * tables must say what messages.ts says.
 */
const doc = readFileSync(new URL('../../../docs/protocols/canteen-pos.md', import.meta.url), 'utf8');

/** Hex frames in the doc's code blocks: runs of byte pairs (possibly wrapped over lines) starting `02 01`. */
function exampleFrames(): Buffer[] {
  const blocks = doc.split('```').filter((_, i) => i % 2 === 1);
  const frames: Buffer[] = [];
  for (const block of blocks) {
    let run: string[] = [];
    const close = () => {
      const at = run.findIndex((t, i) => t === '02' && run[i + 1] === '01');
      if (at !== -1) frames.push(Buffer.from(run.slice(at).join(''), 'hex'));
      run = [];
    };
    for (const token of block.split(/\s+/)) {
      if (/^[0-9A-F]{2}$/.test(token)) run.push(token);
      else close();
    }
    close();
  }
  return frames;
}

function tableRows(heading: string): string[][] {
  const at = doc.indexOf(heading);
  const section = doc.slice(at, doc.indexOf('\n#', at + heading.length));
  return section
    .split('\n')
    .filter((l) => /^\| 0x[0-9A-F]{2} /.test(l))
    .map((l) =>
      l
        .split('|')
        .map((c) => c.trim())
        .slice(1, -1),
    );
}

/** A `NAME = HEX` line of the worked example's key block (§12.8). */
function docHex(name: string): Buffer {
  const m = new RegExp(`^${name}\\s+=\\s+([0-9A-F]+)$`, 'm').exec(doc);
  if (!m?.[1]) throw new Error(`the doc states no ${name}`);
  return Buffer.from(m[1], 'hex');
}

describe('docs/protocols/canteen-pos.md', () => {
  const frames = exampleFrames();

  it('has an example frame for every message', () => {
    const commands = new Set(frames.map((f) => f[3]));
    for (const command of Object.values(Command))
      expect(commands.has(command), `0x${command.toString(16)}`).toBe(true);
    expect(frames.length).toBeGreaterThanOrEqual(15);
  });

  it('shows only frames that parse, decode and re-encode to the same bytes', () => {
    for (const wire of frames) {
      const out = createFrameParser().push(wire);
      expect(
        out.map((o) => o.kind),
        wire.toString('hex'),
      ).toEqual(['frame']);
      const frame = out[0]!;
      if (frame.kind !== 'frame') continue;
      if (hasMacTrailer(frame.body)) continue; // the MAC'd frames: next test
      const msg = decodeMessage(frame);
      const again = encodeFrame({ address: frame.address, seq: frame.seq, ...encodeMessage(msg) });
      expect(again.equals(wire), `${msg.type}: ${wire.toString('hex')}`).toBe(true);
    }
  });

  // The simulator checks the same bytes with its own code (test-rigs/src/sim-canteen-pos/wire): the
  // two sides agree on every MAC'd byte of the document, or one of the two tests is red.
  it("shows MAC'd frames whose MAC the box's code verifies and re-seals byte for byte (§12.8)", () => {
    const kt = docHex('K_t');
    expect(keyCheckValue(kt)).toBe(docHex('KCV').toString('hex').toUpperCase());
    const keys = sessionKeys(kt, 1, docHex('Nt'), docHex('Nb'));
    expect(keys.toBox.equals(docHex('K_tb'))).toBe(true);
    expect(keys.toTerminal.equals(docHex('K_bt'))).toBe(true);
    let maced = 0;
    let records = 0;
    for (const wire of frames) {
      const [frame] = createFrameParser().push(wire);
      if (frame?.kind !== 'frame' || !hasMacTrailer(frame.body)) continue;
      maced++;
      const key = frame.command >= 0x40 ? keys.toBox : keys.toTerminal;
      const opened = openFrame(key, frame);
      expect(opened.ok, wire.toString('hex')).toBe(true);
      if (!opened.ok) continue;
      const msg = decodeMessage({ ...frame, body: opened.fields });
      if (msg.type === 'offline-upload') {
        for (const record of msg.records) {
          if (!record.recordMac) continue;
          // The document shows one deliberately forged RECORD_MAC only in an answer, never in an upload.
          expect(recordMac(kt, record.recordMac.signed).equals(record.recordMac.mac)).toBe(true);
          records++;
        }
      }
      const fields = encodeMessage(msg).body;
      const again = sealFrame({
        key,
        address: frame.address,
        seq: frame.seq,
        command: frame.command,
        fields,
        counter: opened.counter,
      });
      expect(again.equals(wire), `${msg.type}: ${wire.toString('hex')}`).toBe(true);
    }
    expect(maced).toBeGreaterThanOrEqual(9);
    expect(records).toBeGreaterThanOrEqual(2);
  });

  it('states the CRC check value the code uses', () => {
    expect(doc).toContain('CRC-16/CCITT-FALSE');
    expect(doc).toContain(`= 0x${CRC16_CHECK_VALUE.toString(16).toUpperCase()}`);
  });

  it('lists the tags, commands, decline and NAK reasons exactly as messages.ts', () => {
    const asTable = (t: Record<string, number>) =>
      Object.entries(t)
        .map(([name, code]) => [`0x${code.toString(16).toUpperCase().padStart(2, '0')}`, name])
        .sort();
    const pairs = (rows: string[][]) => rows.map((r) => [r[0]!, r[1]!]).sort();
    expect(pairs(tableRows('### 6.1 Tags'))).toEqual(asTable(Tag));
    expect(pairs(tableRows('### 6.3 Decline reasons'))).toEqual(asTable(DeclineReason));
    expect(pairs(tableRows('### 6.4 NAK reasons'))).toEqual(asTable(NakReason));
    expect(pairs(tableRows('## 7. Messages'))).toEqual(asTable(Command));
  });
});
