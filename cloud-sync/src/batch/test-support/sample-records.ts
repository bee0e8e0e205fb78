import { type ChainRecord, chainHash, GENESIS_HASH } from '../../chain/record-chain.ts';
import type { PersonalDataEntry } from '../batch-pii.ts';
import { piiDigestOf } from '../batch-pii.ts';

/**
 * A small, realistic chained ledger excerpt for tests and the test vector: canteen sales with a
 * card number, an attendance pass with an ID number, a void, and a plate sighting without money.
 * Deterministic given `salts`, so the test vector generator and tests build identical records.
 */
export interface SampleChain {
  records: Array<ChainRecord & { hash: string }>;
  personalData: Map<number, PersonalDataEntry>;
  prevChainHead: string;
}

interface Draft {
  kind: string;
  terminalId: string | null;
  amountFen: number | null;
  payload: ChainRecord['payload'];
  pii?: Record<string, string>;
}

const DRAFTS: Draft[] = [
  {
    kind: 'sale',
    terminalId: 'pos-01',
    amountFen: 1250,
    payload: { menuItem: 'noodles', window: 3 },
    pii: { cardNumber: '6222020200112233445' },
  },
  { kind: 'sale', terminalId: 'pos-02', amountFen: 800, payload: { menuItem: 'rice', window: 1 } },
  {
    kind: 'attendance',
    terminalId: 'face-01',
    amountFen: null,
    payload: { direction: 'in' },
    pii: { idNumber: '110101199003071234', phone: '13800138000' },
  },
  { kind: 'void', terminalId: 'pos-01', amountFen: -1250, payload: { voidsSeq: 1 } },
  {
    kind: 'plate-sighting',
    terminalId: 'cam-gate-1',
    amountFen: null,
    payload: { plate: '京A12345', lane: 'entry' },
  },
];

export function sampleChain(opts: {
  boxId: string;
  firstSeq?: number;
  count?: number;
  prevChainHead?: string;
  salt: (seq: number) => string;
  startMs?: number;
}): SampleChain {
  const firstSeq = opts.firstSeq ?? 1;
  const count = opts.count ?? DRAFTS.length;
  const prevChainHead = opts.prevChainHead ?? GENESIS_HASH;
  const start = opts.startMs ?? Date.parse('2026-03-02T03:15:00.000Z');
  const records: Array<ChainRecord & { hash: string }> = [];
  const personalData = new Map<number, PersonalDataEntry>();
  let prev = prevChainHead;
  for (let i = 0; i < count; i++) {
    const seq = firstSeq + i;
    const d = DRAFTS[i % DRAFTS.length] as Draft;
    let piiDigest: string | null = null;
    if (d.pii) {
      const salt = opts.salt(seq);
      personalData.set(seq, { salt, pii: d.pii });
      piiDigest = piiDigestOf(salt, d.pii);
    }
    const record: ChainRecord = {
      boxId: opts.boxId,
      seq,
      kind: d.kind,
      terminalId: d.terminalId,
      amountFen: d.amountFen,
      payload: d.payload,
      piiDigest,
      recordedAt: new Date(start + i * 61_000).toISOString(),
      clockOffsetMs: 120,
      prevHash: prev,
    };
    const hash = chainHash(record);
    records.push({ ...record, hash });
    prev = hash;
  }
  return { records, personalData, prevChainHead };
}
