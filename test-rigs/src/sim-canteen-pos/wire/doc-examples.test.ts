import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  boxProof,
  Command,
  crc16CcittFalse,
  createWireParser,
  DeclineReason,
  decodeBody,
  encodeBody,
  encodeWireFrame,
  keyCheckValue,
  MACED_TO_BOX,
  MACED_TO_TERMINAL,
  NakReason,
  openBody,
  type PosMessage,
  recordFields,
  recordMac,
  sealBody,
  sessionKeys,
  Tag,
  terminalProof,
  type WireFrame,
} from './index.ts';

/**
 * docs/protocols/canteen-pos.md against the terminal side's own wire code: every example frame decodes
 * and re-encodes byte for byte; every MAC'd frame verifies under the session keys derived from the key
 * and nonces the page states, and is re-sealed to the same bytes; every proof, key, KCV and RECORD_MAC
 * the page shows is recomputed. The box side has its own test of the same page
 * (device-drivers/src/canteen-pos/doc-examples.test.ts): two independent codecs, one document.
 */
const doc = readFileSync(new URL('../../../../docs/protocols/canteen-pos.md', import.meta.url), 'utf8');
const blocks = doc.split('```').filter((_, i) => i % 2 === 1);

/** Runs of spaced hex byte pairs in code blocks that start `02 01` (wrapped over lines): the example frames. */
function exampleFrames(): Buffer[] {
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

/** `NAME = <hex digits>` lines of the worked v2 example. */
function stated(name: string): Buffer {
  const m = doc.match(new RegExp(`^${name.replace(/[()]/g, '\\$&')}\\s*=\\s*([0-9A-F]+)\\s*$`, 'm'));
  if (!m) throw new Error(`the document states no ${name}`);
  return Buffer.from(m[1]!, 'hex');
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

const K = stated('K_t');
const NT = stated('Nt');
const NB = stated('Nb');
const ADDRESS = 0x01;
const keys = sessionKeys(K, ADDRESS, NT, NB);

const hasMacFields = (frame: WireFrame) => {
  const b = frame.body;
  return b.length >= 26 && b[b.length - 19] === Tag.MAC && b[b.length - 26] === Tag.MAC_COUNTER;
};

/** The direction key of a MAC'd frame, by its command. */
const macKeyOf = (command: number) =>
  MACED_TO_BOX.has(command) ? keys.kTb : MACED_TO_TERMINAL.has(command) ? keys.kBt : undefined;

function reEncode(frame: WireFrame): { message: PosMessage; bytes: Buffer } {
  if (!hasMacFields(frame)) {
    const message = decodeBody(frame.command, frame.body);
    return { message, bytes: encodeWireFrame({ ...frame, ...encodeBody(message) }) };
  }
  const key = macKeyOf(frame.command);
  if (!key)
    throw new Error(`command 0x${frame.command.toString(16)} carries MAC fields but is not MAC'd (§12.4)`);
  const opened = openBody(key, frame);
  if (!opened.ok) throw new Error(`0x${frame.command.toString(16)} seq ${frame.seq}: ${opened.why}`);
  const message = decodeBody(frame.command, opened.fields);
  const { command, body } = encodeBody(message);
  const head = { address: frame.address, seq: frame.seq, command };
  return { message, bytes: encodeWireFrame({ ...head, body: sealBody(key, head, body, opened.counter) }) };
}

describe('docs/protocols/canteen-pos.md, read by the terminal side', () => {
  const frames = exampleFrames();

  it("has an example of every command, and MAC'd v2 examples of every command that carries a MAC", () => {
    const commands = new Set(frames.map((f) => f[3]));
    for (const [name, command] of Object.entries(Command)) expect(commands.has(command), name).toBe(true);
    const parsed = frames.map((f) => createWireParser().push(f)[0]!);
    const maced = new Set(parsed.filter(hasMacFields).map((f) => f.command));
    for (const command of [...MACED_TO_BOX, ...MACED_TO_TERMINAL])
      expect(maced.has(command), `0x${command.toString(16)}`).toBe(true);
    const naks = new Set(parsed.filter((f) => f.command === Command.NAK).map((f) => f.body[3]));
    for (const reason of [
      'SESSION_REQUIRED',
      'MAC_INVALID',
      'REPLAYED',
      'AUTH_FAILED',
      'FIELD_INVALID',
    ] as const) {
      expect(naks.has(NakReason[reason]), reason).toBe(true);
    }
  });

  it('shows only frames that parse, verify, decode and re-encode to the same bytes', () => {
    for (const wire of frames) {
      const parsed = createWireParser().push(wire);
      expect(parsed, wire.toString('hex')).toHaveLength(1);
      const { message, bytes } = reEncode(parsed[0]!);
      expect(bytes.toString('hex'), message.type).toBe(wire.toString('hex'));
    }
  });

  it('states proofs, session keys and the KCV that follow from its key and nonces', () => {
    expect(stated('PB')).toEqual(boxProof(K, ADDRESS, NT, NB));
    expect(stated('PT')).toEqual(terminalProof(K, ADDRESS, NT, NB));
    expect(stated('K_tb')).toEqual(keys.kTb);
    expect(stated('K_bt')).toEqual(keys.kBt);
    expect(doc).toMatch(new RegExp(`^KCV\\s*=\\s*${keyCheckValue(K)}\\s*$`, 'm'));
    const parsed = frames.map((f) => createWireParser().push(f)[0]!);
    const challenge = parsed.find((f) => f.command === Command.SESSION_CHALLENGE)!;
    const confirm = parsed.find((f) => f.command === Command.SESSION_CONFIRM)!;
    const open = parsed.find((f) => f.command === Command.SESSION_OPEN)!;
    expect(decodeBody(open.command, open.body)).toMatchObject({ nonce: NT });
    expect(decodeBody(challenge.command, challenge.body)).toMatchObject({ nonce: NB, proof: stated('PB') });
    expect(decodeBody(confirm.command, confirm.body)).toMatchObject({ proof: stated('PT') });
  });

  it('shows a MAC that is the HMAC of the bytes it says it covers', () => {
    const sale = frames
      .map((f) => createWireParser().push(f)[0]!)
      .find((f) => f.command === Command.SALE_REQUEST && hasMacFields(f))!;
    const wire = encodeWireFrame(sale);
    const covered = wire.subarray(1, wire.length - 3 - 19);
    expect(doc.replace(/\s+/g, ' ')).toContain(
      [...covered].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' '),
    );
    expect(stated('MAC')).toEqual(wire.subarray(wire.length - 3 - 16, wire.length - 3));
  });

  it('seals every v2 offline record with the RECORD_MAC it shows', () => {
    const uploads = frames
      .map((f) => createWireParser().push(f)[0]!)
      .filter((f) => f.command === Command.OFFLINE_UPLOAD && hasMacFields(f));
    expect(uploads.length).toBeGreaterThan(0);
    for (const upload of uploads) {
      const opened = openBody(keys.kTb, upload);
      if (!opened.ok) throw new Error(opened.why);
      const message = decodeBody(upload.command, opened.fields);
      if (message.type !== 'offline-upload') throw new Error(message.type);
      for (const record of message.records) {
        expect(record.recordMac, `receipt ${record.receiptNo}`).toEqual(recordMac(K, recordFields(record)));
        expect(stated(`RECORD_MAC ${record.receiptNo}`)).toEqual(record.recordMac);
      }
    }
  });

  it('states the CRC check value the terminal side computes', () => {
    expect(doc).toContain(`= 0x${crc16CcittFalse(Buffer.from('123456789')).toString(16).toUpperCase()}`);
  });

  it('lists the tags, commands, decline and NAK reasons exactly as the terminal side knows them', () => {
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
