import { join } from 'node:path';
import type { ByteTransportFactory } from '@sceneway/device-drivers';
import { SimFirmware, type SimFirmwareFaults } from './sim-firmware.ts';
import { SimLine } from './sim-line.ts';
import { NoAnswerError, SimTerminal } from './sim-terminal.ts';
import {
  type Credential,
  MAC_BYTES,
  MAX_RECORDS_PER_UPLOAD,
  type OfflineRecord,
  type PosMessageOf,
  recordFields,
  recordMac,
  type TillKey,
} from './wire/index.ts';

/**
 * A canteen POS terminal simulator on one serial line: one terminal (RS-232) or several addresses on a
 * multidrop bus (RS-485). Tests drive it programmatically; the CLI (cli.ts) drives the same object.
 */
export interface CanteenPosSimOptions {
  /** The simulator's end of the pty pair (or a real serial device, or a memory port's path). */
  path: string;
  /** How that end is opened; default the serial transport. The memory transport's `devices` for unit tests. */
  transports?: ByteTransportFactory;
  baudRate?: number;
  mode?: 'rs232' | 'rs485';
  /** Terminal addresses on this line; RS-232 uses exactly one. Default [1]. */
  addresses?: number[];
  /** How long a terminal waits for an answer before resending (RS-232). Default 1000 ms (doc §4.2). */
  answerTimeoutMs?: number;
  maxTries?: number;
  /** First receipt number each terminal uses. Default 1. */
  firstReceiptNo?: number;
  firmwareVersion?: string;
  /**
   * 2: open a session, MAC every money frame, seal offline records (doc §12); 1: the legacy protocol a
   * box accepts only with the terminal's insecure acknowledgement. Default 2 when a key is given, else 1.
   */
  protocol?: 1 | 2;
  /** The till key (32 bytes) and its KEY_VERSION, as `sceneway terminal provision` showed them. */
  key?: TillKey;
  /** RS-485 with several addresses: each terminal's own key (falls back to `key`). */
  keys?: Record<number, TillKey>;
  /** v2: the terminal ends its session after this long without a POLL. Default 3000 ms (doc §12.3). */
  sessionIdleMs?: number;
  /** Firmware (doc §13): two slots and a staging area; without it firmware frames are NAKed UNKNOWN_COMMAND. */
  firmware?: SimFirmwareConfig;
}

export interface SimFirmwareConfig {
  /** Pinned vendor public keys (PEM or 04‖x‖y hex already read: uncompressed point hex). */
  vendorKeys: string[];
  /** Slot table and staged bytes survive a restart here (per address below it on RS-485). */
  stateDir?: string;
  /** Default "CP-300" and "rev-b". */
  model?: string;
  hardware?: string;
  /** The factory image in slot A is vendor-signed (default true). */
  initialSigned?: boolean;
  faults?: SimFirmwareFaults;
  rebootMs?: number;
  cutMs?: number;
}

export type SaleResult = PosMessageOf<'sale-result'>;

/** One terminal's till: the actions a cashier or a diner triggers. */
export interface SimTill {
  readonly terminal: SimTerminal;
  swipe(cardUidHex: string, amountFen: number): Promise<SaleResult>;
  qrPay(token: string, amountFen: number): Promise<SaleResult>;
  /** A sale with no credential: the diner pays on the separate reader bound to this till (doc §7.5). */
  payOnBoundReader(amountFen: number): Promise<SaleResult>;
  /**
   * A sale with every field chosen: a given RECEIPT_NO (a till that lost its receipt counter reuses
   * one), an old TERMINAL_TIME (a stale copy), no credential. Defaults: the next receipt, now.
   */
  sell(sale: {
    amountFen: number;
    credential?: Credential;
    receiptNo?: number;
    terminalTime?: number;
  }): Promise<SaleResult>;
  /**
   * Re-asks a sale already sent, same RECEIPT_NO and content, fresh TERMINAL_TIME: the "ask again" of
   * the recovery procedure (doc §7.14), after a STALE_REQUEST or an unknown status.
   */
  retry(receiptNo: number): Promise<SaleResult>;
  voidSale(originalReceiptNo: number, amountFen: number): Promise<PosMessageOf<'void-result'>>;
  /** Uploads stored offline records, MAX_RECORDS_PER_UPLOAD per frame; resolves with all record results. */
  uploadOffline(records: OfflineRecord[]): Promise<PosMessageOf<'upload-result'>['results']>;
  downloadPriceList(): Promise<{ version: number; items: PosMessageOf<'price-list'>['items'] }>;
  queryBlacklistVersion(): Promise<number>;
  /** SALE_STATUS_QUERY: what the box's ledger holds for a receipt of this till (doc §7.13). */
  saleStatus(receiptNo: number): Promise<SaleStatus>;
  /**
   * The recovery procedure of doc §7.14 after a sale or void that got no answer: ask SALE_STATUS until
   * the box answers (never guess), up to `rounds` asks. Resolves with the box's answer.
   */
  recover(receiptNo: number, rounds?: number): Promise<SaleStatus>;
  /** Receipts whose sale or void got no answer and has not been recovered yet. */
  readonly unanswered: ReadonlySet<number>;
  /** v2: the RECORD_MAC a till makes when it approves a sale offline, under its till key. */
  sealOfflineRecord(record: OfflineRecord): OfflineRecord;
  /** The receipt number the next sale or void will carry. */
  readonly nextReceiptNo: number;
}

export type SaleStatus = PosMessageOf<'sale-status'>;

export interface CanteenPosSim {
  readonly line: SimLine;
  readonly terminals: ReadonlyMap<number, SimTerminal>;
  till(address?: number): SimTill;
  /** Sends junk bytes on the line (random, starting with STX, unless given). */
  injectJunk(bytes?: Buffer): void;
  /** Re-opens the line after a replug (waits for the link to reappear). */
  reopen(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function startCanteenPosSim(options: CanteenPosSimOptions): Promise<CanteenPosSim> {
  const mode = options.mode ?? 'rs232';
  const addresses = options.addresses ?? [1];
  if (mode === 'rs232' && addresses.length !== 1) throw new Error('rs232 has exactly one terminal per line');
  const keyOf = (address: number): TillKey | undefined => options.keys?.[address] ?? options.key;
  const protocol = options.protocol ?? (options.key || options.keys ? 2 : 1);
  const terminals = new Map<number, SimTerminal>();
  const line = new SimLine({
    path: options.path,
    baudRate: options.baudRate ?? 9600,
    // Multidrop: every terminal hears every frame and acts only on its own address.
    onFrame: (frame) => terminals.get(frame.address)?.onFrame(frame),
    ...(options.transports ? { transports: options.transports } : {}),
  });
  for (const address of addresses) {
    const fw = options.firmware;
    const model = fw?.model ?? 'CP-300';
    const hardware = fw?.hardware ?? 'rev-b';
    const firmware = fw
      ? new SimFirmware({
          vendorKeys: fw.vendorKeys,
          model,
          hardware,
          initialVersion: options.firmwareVersion ?? '1.0.0',
          ...(fw.initialSigned !== undefined ? { initialSigned: fw.initialSigned } : {}),
          ...(fw.stateDir
            ? { stateDir: addresses.length > 1 ? join(fw.stateDir, `till-${address}`) : fw.stateDir }
            : {}),
          ...(fw.faults ? { faults: fw.faults } : {}),
        })
      : undefined;
    terminals.set(
      address,
      new SimTerminal({
        address,
        mode,
        protocol,
        ...(keyOf(address) ? { key: keyOf(address)! } : {}),
        ...(options.sessionIdleMs ? { sessionIdleMs: options.sessionIdleMs } : {}),
        answerTimeoutMs: options.answerTimeoutMs ?? 1000,
        maxTries: options.maxTries ?? 3,
        send: (bytes) => line.sendFrame(bytes),
        ...(options.firmwareVersion ? { firmwareVersion: options.firmwareVersion } : {}),
        ...(firmware
          ? {
              firmware,
              model,
              hardware,
              ...(fw?.rebootMs !== undefined ? { rebootMs: fw.rebootMs } : {}),
              ...(fw?.cutMs !== undefined ? { firmwareCutMs: fw.cutMs } : {}),
            }
          : {}),
      }),
    );
  }
  await line.open();

  const tills = new Map<number, SimTill>();
  const makeTill = (terminal: SimTerminal): SimTill => {
    let receiptNo = options.firstReceiptNo ?? 1;
    const take = () => receiptNo++;
    const unanswered = new Set<number>();
    /** A sale or void with no answer is remembered for the recovery procedure; the error still reaches the caller. */
    const tracked = <T>(receipt: number, sent: Promise<T>): Promise<T> =>
      sent.then(
        (answer) => {
          unanswered.delete(receipt);
          return answer;
        },
        (err: unknown) => {
          // Only if the money frame itself went out: a session that could not be opened sent no sale.
          const moneyFrame =
            err instanceof NoAnswerError &&
            err.request.type !== 'session-open' &&
            err.request.type !== 'session-confirm';
          if (moneyFrame) unanswered.add(receipt);
          throw err;
        },
      );
    const seal = (record: OfflineRecord): OfflineRecord => {
      const key = terminal.key;
      if (terminal.protocol !== 2 || !key || record.recordMac) return record;
      return { ...record, recordMac: recordMac(key.key, recordFields(record)) };
    };
    const forge = (record: OfflineRecord): OfflineRecord => {
      const mac = Buffer.from(record.recordMac ?? Buffer.alloc(MAC_BYTES));
      mac[0] = mac[0]! ^ 0x80;
      return { ...record, recordMac: mac };
    };
    /** What each sale asked, by receipt, so that `retry` re-asks exactly the same content. */
    const asked = new Map<number, { amountFen: number; credential?: Credential }>();
    const sale = (
      receipt: number,
      amountFen: number,
      credential: Credential | undefined,
      terminalTime = nowSeconds(),
    ) => {
      asked.set(receipt, { amountFen, ...(credential ? { credential } : {}) });
      return tracked(
        receipt,
        terminal.request({
          type: 'sale-request',
          receiptNo: receipt,
          amountFen,
          ...(credential ? { credential } : {}),
          terminalTime,
        }),
      );
    };
    const saleStatus = (receipt: number) =>
      terminal.request({ type: 'sale-status-query', receiptNo: receipt });
    return {
      terminal,
      get nextReceiptNo() {
        return receiptNo;
      },
      get unanswered() {
        return unanswered;
      },
      sealOfflineRecord: seal,
      saleStatus,
      async recover(receipt, rounds = 10) {
        for (let round = 1; ; round++) {
          try {
            const status = await saleStatus(receipt);
            unanswered.delete(receipt);
            return status;
          } catch (err) {
            // No answer is not an answer: ask again (the box may be restarting); a NAK is final.
            if (!(err instanceof NoAnswerError) || round >= rounds) throw err;
          }
        }
      },
      swipe: (uidHex, amountFen) => sale(take(), amountFen, { kind: 'card', uidHex }),
      qrPay: (token, amountFen) => sale(take(), amountFen, { kind: 'qr', token }),
      payOnBoundReader: (amountFen) => sale(take(), amountFen, undefined),
      sell: (s) => sale(s.receiptNo ?? take(), s.amountFen, s.credential, s.terminalTime),
      retry(receipt) {
        const first = asked.get(receipt);
        if (!first) return Promise.reject(new Error(`receipt ${receipt} was not sold by this till`));
        return sale(receipt, first.amountFen, first.credential);
      },
      voidSale(originalReceiptNo, amountFen) {
        const receipt = take();
        return tracked(
          receipt,
          terminal.request({
            type: 'void-request',
            receiptNo: receipt,
            originalReceiptNo,
            amountFen,
            terminalTime: nowSeconds(),
          }),
        );
      },
      async uploadOffline(records) {
        const results: PosMessageOf<'upload-result'>['results'] = [];
        const forged = terminal.faults.forgeRecordMacs;
        terminal.faults.forgeRecordMacs = false;
        for (let i = 0; i < records.length; i += MAX_RECORDS_PER_UPLOAD) {
          const sealed = records.slice(i, i + MAX_RECORDS_PER_UPLOAD).map(seal);
          const answer = await terminal.request({
            type: 'offline-upload',
            records: forged ? sealed.map(forge) : sealed,
          });
          results.push(...answer.results);
        }
        return results;
      },
      async downloadPriceList() {
        const first = await terminal.request({ type: 'price-list-request', currentVersion: 0, page: 0 });
        const items = [...first.items];
        for (let page = 1; page < first.pageCount; page++) {
          const next = await terminal.request({ type: 'price-list-request', currentVersion: 0, page });
          items.push(...next.items);
        }
        return { version: first.version, items };
      },
      async queryBlacklistVersion() {
        const answer = await terminal.request({
          type: 'blacklist-version-query',
          currentVersion: terminal.knownBlacklistVersion,
        });
        return answer.version;
      },
    };
  };

  return {
    line,
    terminals,
    till(address = addresses[0]!) {
      const terminal = terminals.get(address);
      if (!terminal) throw new Error(`no simulated terminal at address ${address}`);
      let till = tills.get(address);
      if (!till) {
        till = makeTill(terminal);
        tills.set(address, till);
      }
      return till;
    },
    injectJunk(bytes) {
      line.sendJunk(bytes);
    },
    reopen(timeoutMs) {
      // A replugged line is a new line: the box has dropped its sessions, so the terminals drop theirs (doc §12.3).
      for (const t of terminals.values()) t.endSession();
      return line.reopen(timeoutMs);
    },
    async close() {
      for (const t of terminals.values()) t.abort('simulator closed');
      await line.close();
    },
  };
}
