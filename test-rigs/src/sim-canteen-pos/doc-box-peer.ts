import { randomBytes } from 'node:crypto';
import type { Transport } from '@sceneway/device-drivers';
import { createSerialTransportFactory } from '@sceneway/device-drivers';
import {
  boxProof,
  Command,
  createWireParser,
  type Decision,
  decodeBody,
  encodeBody,
  encodeWireFrame,
  MACED_TO_BOX,
  type NakReasonName,
  type OfflineRecord,
  openBody,
  type PosMessage,
  type PosMessageOf,
  type RecordResult,
  recordFields,
  recordMac,
  type SessionKeys,
  sameBytes,
  sealBody,
  sessionKeys,
  type TillKey,
  terminalProof,
  WireError,
  type WireFrame,
} from './wire/index.ts';

/**
 * A small box for testing the simulator before the real driver speaks v2: the box side of
 * docs/protocols/canteen-pos.md §5 and §12 as the document states it (reply cache, then session, MAC,
 * counter; sale identity by content; SALE_STATUS from its ledger; record MACs), on a real pty through
 * the serial transport. Test support only: the real box is device-drivers/src/canteen-pos.
 */
export interface DocBoxPeerOptions {
  path: string;
  baudRate?: number;
  keys: Record<number, TillKey[]>;
  decide?(sale: PosMessageOf<'sale-request'>): Decision;
  pollIntervalMs?: number;
}

interface Session {
  keys: SessionKeys;
  lastFromTerminal: number;
  sent: number;
}

interface LedgerEntry {
  kind: 'sale' | 'void';
  content: string;
  decision: Decision;
  amountFen: number;
}

const contentOf = (m: { amountFen: number; credential?: OfflineRecord['credential'] }) =>
  JSON.stringify([m.amountFen, m.credential ?? null]);

export class DocBoxPeer {
  /** Refusals (NAK reasons) the box sent, in order. */
  readonly refusals: NakReasonName[] = [];
  /** Money frames the box authenticated and decided. */
  readonly decided: PosMessage[] = [];
  readonly ledger = new Map<string, LedgerEntry>();
  /** The next N answers (cached copies included) are committed but never sent (a crash between commit and answer). */
  muteAnswers = 0;
  /** The next answer goes out with a forged MAC (a box impostor's answer). */
  forgeNextAnswerMac = false;
  /** The next SESSION_CHALLENGE carries a wrong PROOF (a box that does not know the key). */
  forgeNextProof = false;
  private readonly sessions = new Map<number, Session>();
  private readonly challenges = new Map<number, { nt: Buffer; nb: Buffer; key: TillKey }>();
  private readonly cache = new Map<
    number,
    Array<{ seq: number; command: number; body: Buffer; answer: Buffer }>
  >();
  private readonly parser = createWireParser();
  private pollSeq = 0;
  private poller: NodeJS.Timeout | undefined;

  private constructor(
    private readonly transport: Transport,
    private readonly options: DocBoxPeerOptions,
  ) {}

  static async start(options: DocBoxPeerOptions): Promise<DocBoxPeer> {
    const transport = await createSerialTransportFactory().open({
      kind: 'serial',
      path: options.path,
      baudRate: options.baudRate ?? 115200,
    });
    const peer = new DocBoxPeer(transport, options);
    transport.onData((bytes) => {
      for (const frame of peer.parser.push(bytes)) peer.onFrame(frame);
    });
    peer.poller = setInterval(() => peer.pollAll(), options.pollIntervalMs ?? 100);
    return peer;
  }

  /** The box restarts: every session and challenge is gone. */
  restart(): void {
    this.sessions.clear();
    this.challenges.clear();
    this.cache.clear();
  }

  async close(): Promise<void> {
    clearInterval(this.poller);
    await this.transport.close();
  }

  /** What terminals answered to the box's own frames (ACK / NAK reason), in order. */
  readonly terminalAnswers: string[] = [];

  /** TIME_SYNC, MAC'd under K_bt (§7.4); returns its bytes, so a test can send them again. */
  sendTimeSync(address: number, utcMs: number, forgeMac = false): Buffer {
    this.pollSeq = (this.pollSeq + 1) & 0xff;
    const bytes = this.answerFrame(address, this.pollSeq, { type: 'time-sync', utcMs, tzOffsetMinutes: 480 });
    if (forgeMac) {
      bytes[bytes.length - 4] = bytes[bytes.length - 4]! ^ 0x01;
      this.write(
        encodeWireFrame({
          address,
          seq: bytes[2]!,
          command: bytes[3]!,
          body: bytes.subarray(6, bytes.length - 3),
        }),
      );
    } else this.write(bytes);
    return bytes;
  }

  /** Puts bytes on the line as they are (a retransmission, or a replay). */
  sendRaw(bytes: Buffer): void {
    this.write(bytes);
  }

  private pollAll(): void {
    for (const address of Object.keys(this.options.keys).map(Number)) {
      this.pollSeq = (this.pollSeq + 1) & 0xff;
      const { command, body } = encodeBody({ type: 'poll' });
      this.write(encodeWireFrame({ address, seq: this.pollSeq, command, body }));
    }
  }

  private write(bytes: Buffer): void {
    void this.transport.write(bytes).catch(() => undefined);
  }

  private plain(address: number, seq: number, message: PosMessage): Buffer {
    return encodeWireFrame({ address, seq, ...encodeBody(message) });
  }

  private refuse(frame: WireFrame, reason: NakReasonName): void {
    this.refusals.push(reason);
    this.write(this.plain(frame.address, frame.seq, { type: 'nak', reason }));
  }

  private answerFrame(address: number, seq: number, message: PosMessage): Buffer {
    const session = this.sessions.get(address);
    const { command, body } = encodeBody(message);
    if (!session) throw new Error('no session');
    session.sent += 1;
    return encodeWireFrame({
      address,
      seq,
      command,
      body: sealBody(session.keys.kBt, { address, seq, command }, body, session.sent),
    });
  }

  private onFrame(frame: WireFrame): void {
    const { address } = frame;
    if (!this.options.keys[address]) return;
    if (frame.command === Command.ACK) this.terminalAnswers.push('ACK');
    if (frame.command === Command.NAK)
      this.terminalAnswers.push((decodeBody(frame.command, frame.body) as { reason: string }).reason);
    if (frame.command === Command.STATUS || frame.command === Command.ACK || frame.command === Command.NAK)
      return;
    // §5 layer 1: a byte-identical copy of a remembered request gets the remembered answer.
    const cached = this.cache
      .get(address)
      ?.find((c) => c.seq === frame.seq && c.command === frame.command && c.body.equals(frame.body));
    if (cached) {
      this.sendAnswer(cached.answer);
      return;
    }
    let body = frame.body;
    if (MACED_TO_BOX.has(frame.command)) {
      const session = this.sessions.get(address);
      if (!session) {
        this.refuse(frame, 'SESSION_REQUIRED');
        return;
      }
      const opened = openBody(session.keys.kTb, frame);
      if (!opened.ok) {
        this.refuse(frame, 'MAC_INVALID');
        return;
      }
      if (opened.counter <= session.lastFromTerminal) {
        this.refuse(frame, 'REPLAYED');
        return;
      }
      session.lastFromTerminal = opened.counter;
      body = opened.fields;
    }
    let message: PosMessage;
    try {
      message = decodeBody(frame.command, body);
    } catch (err) {
      this.refuse(frame, err instanceof WireError ? err.nak : 'FIELD_INVALID');
      return;
    }
    const answer = this.handle(frame, message);
    if (!answer) return;
    const list = this.cache.get(address) ?? [];
    list.push({ seq: frame.seq, command: frame.command, body: frame.body, answer });
    if (list.length > 8) list.shift();
    this.cache.set(address, list);
    this.sendAnswer(answer);
  }

  private sendAnswer(answer: Buffer): void {
    const address = answer[1]!;
    if (this.muteAnswers > 0) {
      this.muteAnswers--;
      return;
    }
    if (this.forgeNextAnswerMac) {
      this.forgeNextAnswerMac = false;
      const forged = Buffer.from(answer);
      forged[forged.length - 4] = forged[forged.length - 4]! ^ 0x01;
      // Keep the CRC right: the forgery is in the MAC, not line noise.
      this.write(
        encodeWireFrame({
          address,
          seq: forged[2]!,
          command: forged[3]!,
          body: forged.subarray(6, forged.length - 3),
        }),
      );
      return;
    }
    this.write(answer);
  }

  private handle(frame: WireFrame, m: PosMessage): Buffer | undefined {
    const { address, seq } = frame;
    switch (m.type) {
      case 'session-open': {
        const key = this.options.keys[address]?.find((k) => k.version === m.keyVersion);
        if (!key) {
          this.refuse(frame, 'AUTH_FAILED');
          return undefined;
        }
        const nb = randomBytes(16);
        this.challenges.set(address, { nt: m.nonce, nb, key });
        let proof = boxProof(key.key, address, m.nonce, nb);
        if (this.forgeNextProof) {
          this.forgeNextProof = false;
          proof = Buffer.from(proof);
          proof[5] = proof[5]! ^ 0x10;
        }
        return this.plain(address, seq, { type: 'session-challenge', nonce: nb, proof });
      }
      case 'session-confirm': {
        const challenge = this.challenges.get(address);
        this.challenges.delete(address); // one CONFIRM per challenge, right or wrong
        if (
          !challenge ||
          !sameBytes(m.proof, terminalProof(challenge.key.key, address, challenge.nt, challenge.nb))
        ) {
          this.refuse(frame, 'AUTH_FAILED');
          return undefined;
        }
        this.sessions.set(address, {
          keys: sessionKeys(challenge.key.key, address, challenge.nt, challenge.nb),
          lastFromTerminal: 0,
          sent: 0,
        });
        return this.plain(address, seq, { type: 'ack' });
      }
      case 'sale-request': {
        this.decided.push(m);
        const key = `${address}:${m.receiptNo}`;
        const prior = this.ledger.get(key);
        const decision: Decision = prior
          ? prior.content === contentOf(m)
            ? prior.decision
            : { outcome: 'declined', reason: 'DUPLICATE_RECEIPT' }
          : (this.options.decide?.(m) ?? { outcome: 'approved' });
        if (!prior)
          this.ledger.set(key, { kind: 'sale', content: contentOf(m), decision, amountFen: m.amountFen });
        return this.answerFrame(address, seq, {
          type: 'sale-result',
          receiptNo: m.receiptNo,
          decision,
          displayText: '',
        });
      }
      case 'void-request': {
        this.decided.push(m);
        const original = this.ledger.get(`${address}:${m.originalReceiptNo}`);
        const decision: Decision =
          original?.decision.outcome !== 'approved'
            ? { outcome: 'declined', reason: 'VOID_NOT_FOUND' }
            : original.amountFen !== m.amountFen
              ? { outcome: 'declined', reason: 'VOID_NOT_ALLOWED' }
              : { outcome: 'approved' };
        if (decision.outcome === 'approved') {
          this.ledger.set(`${address}:${m.receiptNo}`, {
            kind: 'void',
            content: '',
            decision,
            amountFen: m.amountFen,
          });
        }
        return this.answerFrame(address, seq, {
          type: 'void-result',
          receiptNo: m.receiptNo,
          decision,
          displayText: '',
        });
      }
      case 'offline-upload': {
        this.decided.push(m);
        const keys = this.options.keys[address] ?? [];
        const results: RecordResult[] = m.records.map((r) => {
          const fields = recordFields(r);
          const genuine =
            r.recordMac !== undefined && keys.some((k) => sameBytes(recordMac(k.key, fields), r.recordMac!));
          if (!genuine)
            return {
              receiptNo: r.receiptNo,
              decision: { outcome: 'declined', reason: 'RECORD_MAC_INVALID' },
              result: 2,
            };
          this.ledger.set(`${address}:${r.receiptNo}`, {
            kind: r.kind,
            content: contentOf(r),
            decision: { outcome: 'approved' },
            amountFen: r.amountFen,
          });
          return { receiptNo: r.receiptNo, decision: { outcome: 'approved' }, result: 0 };
        });
        return this.answerFrame(address, seq, { type: 'upload-result', results });
      }
      case 'sale-status-query': {
        const entry = this.ledger.get(`${address}:${m.receiptNo}`);
        const status: PosMessageOf<'sale-status'> = !entry
          ? { type: 'sale-status', receiptNo: m.receiptNo, state: 'unknown' }
          : entry.decision.outcome === 'approved'
            ? {
                type: 'sale-status',
                receiptNo: m.receiptNo,
                state: 'approved',
                recordKind: entry.kind,
                amountFen: entry.amountFen,
              }
            : {
                type: 'sale-status',
                receiptNo: m.receiptNo,
                state: 'declined',
                recordKind: entry.kind,
                reason: entry.decision.reason,
              };
        return this.answerFrame(address, seq, status);
      }
      case 'blacklist-version-query':
        return this.plain(address, seq, { type: 'blacklist-version', version: 3 });
      default:
        this.refuse(frame, 'UNKNOWN_COMMAND');
        return undefined;
    }
  }
}
