import { pathToFileURL } from 'node:url';
import {
  EXAMPLE_ADDRESS as A,
  EXAMPLE_KEY,
  EXAMPLE_NB,
  EXAMPLE_NT,
  EXAMPLE_TIME,
} from './doc-example-values.ts';
import {
  boxProof,
  encodeBody,
  encodeWireFrame,
  keyCheckValue,
  MACED_TO_BOX,
  MACED_TO_TERMINAL,
  type OfflineRecord,
  type PosMessage,
  recordFields,
  recordMac,
  sealBody,
  sessionKeys,
  terminalProof,
} from './index.ts';

/**
 * Prints §12.8 of docs/protocols/canteen-pos.md (the worked v2 example) from the simulator's own wire
 * code, so the document's bytes come from the terminal side; wire/doc-examples.test.ts checks them back.
 * `node --import tsx test-rigs/src/sim-canteen-pos/wire/print-doc-examples.ts > /tmp/12.8.md`
 */
const K = EXAMPLE_KEY.key;
const keys = sessionKeys(K, A, EXAMPLE_NT, EXAMPLE_NB);

export const hexSpaced = (b: Buffer, perLine = 32): string => {
  const pairs = [...b].map((x) => x.toString(16).toUpperCase().padStart(2, '0'));
  const lines: string[] = [];
  for (let i = 0; i < pairs.length; i += perLine) lines.push(pairs.slice(i, i + perLine).join(' '));
  return lines.join('\n');
};
const hex = (b: Buffer) => b.toString('hex').toUpperCase();

/** A frame as the example shows it: MAC'd under the direction's session key when the command carries money. */
export function exampleFrame(seq: number, message: PosMessage, counter?: number): Buffer {
  const { command, body } = encodeBody(message);
  if (counter === undefined) return encodeWireFrame({ address: A, seq, command, body });
  const key = MACED_TO_BOX.has(command) ? keys.kTb : MACED_TO_TERMINAL.has(command) ? keys.kBt : undefined;
  if (!key) throw new Error(`${message.type} is not MAC'd`);
  return encodeWireFrame({
    address: A,
    seq,
    command,
    body: sealBody(key, { address: A, seq, command }, body, counter),
  });
}

export const sealed = (r: OfflineRecord): OfflineRecord => ({
  ...r,
  recordMac: recordMac(K, recordFields(r)),
});

function main(): void {
  const o: string[] = [];
  const md = (text: string) => o.push(text);
  const block = (lines: string[]) => o.push(['```', ...lines, '```', ''].join('\n'));
  const frame = (title: string, bytes: Buffer) => [`${title}:`, hexSpaced(bytes)];
  const PB = boxProof(K, A, EXAMPLE_NT, EXAMPLE_NB);
  const PT = terminalProof(K, A, EXAMPLE_NT, EXAMPLE_NB);
  md(`### 12.8 Worked example, MACs included

Till address 0x01, KEY_VERSION 1, and fixed values so that the bytes can be checked (a real key and real
nonces are random, and a real till never shows them). Key material is written as one run of hex digits;
frames as before.

\`\`\`
K_t  = ${hex(K)}
KCV  = ${keyCheckValue(K)}
Nt   = ${hex(EXAMPLE_NT)}
Nb   = ${hex(EXAMPLE_NB)}
PB   = ${hex(PB)}
PT   = ${hex(PT)}
K_tb = ${hex(keys.kTb)}
K_bt = ${hex(keys.kBt)}
\`\`\`

**Opening the session** (§12.3):
`);
  block([
    ...frame(
      'SESSION_OPEN seq 0x20, version 2, key version 1, Nt',
      exampleFrame(0x20, { type: 'session-open', keyVersion: 1, nonce: EXAMPLE_NT }),
    ),
    '',
    ...frame(
      'SESSION_CHALLENGE seq 0x20, Nb, PB',
      exampleFrame(0x20, { type: 'session-challenge', nonce: EXAMPLE_NB, proof: PB }),
    ),
    '',
    ...frame('SESSION_CONFIRM seq 0x21, PT', exampleFrame(0x21, { type: 'session-confirm', proof: PT })),
    '',
    ...frame('ACK seq 0x21: the session is open', exampleFrame(0x21, { type: 'ack' })),
  ]);
  const sale = exampleFrame(
    0x22,
    {
      type: 'sale-request',
      receiptNo: 1234,
      amountFen: 1250,
      credential: { kind: 'card', uidHex: '04A1B2C3' },
      terminalTime: EXAMPLE_TIME,
    },
    1,
  );
  md(`**A sale.** The fields of the SALE_REQUEST of §7.5 (here seq 0x22), the till's counter 1 and its MAC
under K_tb: HMAC-SM3 under K_tb of the bytes from ADDR to the end of the MAC_COUNTER field (LEN already
counts the MAC field), cut to 16 bytes:
`);
  block([
    'MAC input (ADDR..MAC_COUNTER):',
    hexSpaced(sale.subarray(1, sale.length - 3 - 19)),
    `MAC = ${hex(sale.subarray(sale.length - 3 - 16, sale.length - 3))}`,
    '',
    ...frame('SALE_REQUEST seq 0x22, receipt 1234, 12.50 yuan, card 04A1B2C3, till counter 1', sale),
    '',
    ...frame(
      'SALE_RESULT seq 0x22, approved, balance 87.50 yuan, "支付成功", box counter 1, MAC under K_bt',
      exampleFrame(
        0x22,
        {
          type: 'sale-result',
          receiptNo: 1234,
          decision: { outcome: 'approved' },
          balanceFen: 8750,
          displayText: '支付成功',
        },
        1,
      ),
    ),
  ]);
  md('**A void** of that sale, exact amount (§7.7):\n');
  block([
    ...frame(
      'VOID_REQUEST seq 0x23, receipt 1236 voids 1234, 12.50 yuan, till counter 2',
      exampleFrame(
        0x23,
        {
          type: 'void-request',
          receiptNo: 1236,
          originalReceiptNo: 1234,
          amountFen: 1250,
          terminalTime: EXAMPLE_TIME + 60,
        },
        2,
      ),
    ),
    '',
    ...frame(
      'VOID_RESULT seq 0x23, approved, "OK", box counter 2',
      exampleFrame(
        0x23,
        { type: 'void-result', receiptNo: 1236, decision: { outcome: 'approved' }, displayText: 'OK' },
        2,
      ),
    ),
  ]);
  const r1 = sealed({
    kind: 'sale',
    receiptNo: 1200,
    amountFen: 600,
    credential: { kind: 'card', uidHex: '04A1B2C3' },
    terminalTime: EXAMPLE_TIME - 3600,
  });
  const r2 = sealed({
    kind: 'sale',
    receiptNo: 1201,
    amountFen: 800,
    credential: { kind: 'card', uidHex: '04DEAD00' },
    terminalTime: EXAMPLE_TIME - 3000,
  });
  md(`**An offline upload** (§7.8, §12.7): two sales the till approved on its own, each sealed with its
RECORD_MAC under K_t when it happened; card 04DEAD00 is on the blacklist, which the till did not know.
The RECORD_MAC of receipt 1200 covers "SCW2-REC" and these record bytes:
`);
  block([
    'record 1200 before its RECORD_MAC:',
    hexSpaced(recordFields(r1)),
    `RECORD_MAC 1200 = ${hex(r1.recordMac!)}`,
    `RECORD_MAC 1201 = ${hex(r2.recordMac!)}`,
    '',
    ...frame(
      'OFFLINE_UPLOAD seq 0x24, receipts 1200 and 1201, till counter 3',
      exampleFrame(0x24, { type: 'offline-upload', records: [r1, r2] }, 3),
    ),
    '',
    ...frame(
      'UPLOAD_RESULT seq 0x24: 1200 RESULT 0, 1201 RESULT 1 BLACKLISTED (recorded; stop approving the card offline), box counter 3',
      exampleFrame(
        0x24,
        {
          type: 'upload-result',
          results: [
            { receiptNo: 1200, decision: { outcome: 'approved' }, result: 0 },
            { receiptNo: 1201, decision: { outcome: 'declined', reason: 'BLACKLISTED' }, result: 1 },
          ],
        },
        3,
      ),
    ),
    '',
    ...frame(
      'the same upload with a forged RECORD_MAC on 1200: RESULT 2 RECORD_MAC_INVALID (not recorded), box counter 3',
      exampleFrame(
        0x24,
        {
          type: 'upload-result',
          results: [
            { receiptNo: 1200, decision: { outcome: 'declined', reason: 'RECORD_MAC_INVALID' }, result: 2 },
          ],
        },
        3,
      ),
    ),
  ]);
  md('**What became of receipt 1234** (§7.13), with each possible answer:\n');
  block([
    ...frame(
      'SALE_STATUS_QUERY seq 0x25, receipt 1234, till counter 4',
      exampleFrame(0x25, { type: 'sale-status-query', receiptNo: 1234 }, 4),
    ),
    '',
    ...frame(
      'SALE_STATUS seq 0x25: approved, a sale, 12.50 yuan, box counter 4',
      exampleFrame(
        0x25,
        { type: 'sale-status', receiptNo: 1234, state: 'approved', recordKind: 'sale', amountFen: 1250 },
        4,
      ),
    ),
    '',
    ...frame(
      'SALE_STATUS seq 0x25: declined BLACKLISTED, box counter 4',
      exampleFrame(
        0x25,
        {
          type: 'sale-status',
          receiptNo: 1234,
          state: 'declined',
          recordKind: 'sale',
          reason: 'BLACKLISTED',
        },
        4,
      ),
    ),
    '',
    ...frame(
      'SALE_STATUS seq 0x25: unknown, box counter 4',
      exampleFrame(0x25, { type: 'sale-status', receiptNo: 1234, state: 'unknown' }, 4),
    ),
  ]);
  md('**A stale request** (§5): TERMINAL_TIME two minutes behind the box, declined, recorded nowhere:\n');
  block([
    ...frame(
      'SALE_REQUEST seq 0x26, receipt 1237, 8.00 yuan, QR token "QR1.abc", till counter 5',
      exampleFrame(
        0x26,
        {
          type: 'sale-request',
          receiptNo: 1237,
          amountFen: 800,
          credential: { kind: 'qr', token: 'QR1.abc' },
          terminalTime: EXAMPLE_TIME - 120,
        },
        5,
      ),
    ),
    '',
    ...frame(
      'SALE_RESULT seq 0x26, declined STALE_REQUEST, "请重新交易", box counter 5',
      exampleFrame(
        0x26,
        {
          type: 'sale-result',
          receiptNo: 1237,
          decision: { outcome: 'declined', reason: 'STALE_REQUEST' },
          displayText: '请重新交易',
        },
        5,
      ),
    ),
  ]);
  md("**The clock and the heartbeat** (§7.4, §7.3): TIME_SYNC is MAC'd in v2, STATUS is not:\n");
  block([
    ...frame(
      'TIME_SYNC seq 0x12, 2026-01-01 04:00:00.000 UTC, +480 min, box counter 6',
      exampleFrame(0x12, { type: 'time-sync', utcMs: 0x19b77b66200, tzOffsetMinutes: 480 }, 6),
    ),
    '',
    ...frame(
      'STATUS seq 0x10 from a v2 till (PROTOCOL_VERSION 2)',
      exampleFrame(0x10, {
        type: 'status',
        offlineCount: 0,
        offlineCapacity: 5000,
        priceListVersion: 7,
        blacklistVersion: 3,
        firmwareVersion: 'CP-2.1',
        protocolVersion: 2,
      }),
    ),
  ]);
  md('**Refusals** (§6.6): NAKs carry no MAC and are not remembered:\n');
  block(
    (
      [
        [0x22, 'SESSION_REQUIRED', 'a sale with no session open'],
        [0x22, 'MAC_INVALID', 'a sale whose MAC is wrong or missing'],
        [0x22, 'REPLAYED', 'a sale with an old MAC_COUNTER'],
        [0x21, 'AUTH_FAILED', 'a SESSION_CONFIRM with a wrong PROOF'],
        [0x24, 'FIELD_INVALID', 'an OFFLINE_UPLOAD of 33 records'],
      ] as const
    ).flatMap(([seq, reason, why], i) => [
      ...(i > 0 ? [''] : []),
      ...frame(
        `NAK ${reason} seq 0x${seq.toString(16).toUpperCase()}, ${why}`,
        exampleFrame(seq, { type: 'nak', reason }),
      ),
    ]),
  );
  process.stdout.write(o.join('\n'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
