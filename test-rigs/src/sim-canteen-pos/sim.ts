import type { ByteTransportFactory, OfflineRecord, PosMessageOf } from '@sceneway/device-drivers';
import { MAX_RECORDS_PER_UPLOAD } from '@sceneway/device-drivers';
import { SimLine } from './sim-line.ts';
import { SimTerminal } from './sim-terminal.ts';

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
}

export type SaleResult = PosMessageOf<'sale-result'>;

/** One terminal's till: the actions a cashier or a diner triggers. */
export interface SimTill {
  readonly terminal: SimTerminal;
  swipe(cardUidHex: string, amountFen: number): Promise<SaleResult>;
  qrPay(token: string, amountFen: number): Promise<SaleResult>;
  /** A sale with no credential: the diner pays on the separate reader bound to this till (doc §7.5). */
  payOnBoundReader(amountFen: number): Promise<SaleResult>;
  voidSale(originalReceiptNo: number, amountFen: number): Promise<PosMessageOf<'void-result'>>;
  /** Uploads stored offline records, MAX_RECORDS_PER_UPLOAD per frame; resolves with all record results. */
  uploadOffline(records: OfflineRecord[]): Promise<PosMessageOf<'upload-result'>['results']>;
  downloadPriceList(): Promise<{ version: number; items: PosMessageOf<'price-list'>['items'] }>;
  queryBlacklistVersion(): Promise<number>;
  /** The receipt number the next sale or void will carry. */
  readonly nextReceiptNo: number;
}

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
  const terminals = new Map<number, SimTerminal>();
  const line = new SimLine({
    path: options.path,
    baudRate: options.baudRate ?? 9600,
    // Multidrop: every terminal hears every frame and acts only on its own address.
    onFrame: (frame) => terminals.get(frame.address)?.onFrame(frame),
    ...(options.transports ? { transports: options.transports } : {}),
  });
  for (const address of addresses) {
    terminals.set(
      address,
      new SimTerminal({
        address,
        mode,
        answerTimeoutMs: options.answerTimeoutMs ?? 1000,
        maxTries: options.maxTries ?? 3,
        send: (bytes) => line.sendFrame(bytes),
        ...(options.firmwareVersion ? { firmwareVersion: options.firmwareVersion } : {}),
      }),
    );
  }
  await line.open();

  const tills = new Map<number, SimTill>();
  const makeTill = (terminal: SimTerminal): SimTill => {
    let receiptNo = options.firstReceiptNo ?? 1;
    const take = () => receiptNo++;
    return {
      terminal,
      get nextReceiptNo() {
        return receiptNo;
      },
      swipe: (uidHex, amountFen) =>
        terminal.request({
          type: 'sale-request',
          receiptNo: take(),
          amountFen,
          credential: { kind: 'card', uidHex },
          terminalTime: nowSeconds(),
        }),
      qrPay: (token, amountFen) =>
        terminal.request({
          type: 'sale-request',
          receiptNo: take(),
          amountFen,
          credential: { kind: 'qr', token },
          terminalTime: nowSeconds(),
        }),
      payOnBoundReader: (amountFen) =>
        terminal.request({ type: 'sale-request', receiptNo: take(), amountFen, terminalTime: nowSeconds() }),
      voidSale: (originalReceiptNo, amountFen) =>
        terminal.request({
          type: 'void-request',
          receiptNo: take(),
          originalReceiptNo,
          amountFen,
          terminalTime: nowSeconds(),
        }),
      async uploadOffline(records) {
        const results: PosMessageOf<'upload-result'>['results'] = [];
        for (let i = 0; i < records.length; i += MAX_RECORDS_PER_UPLOAD) {
          const answer = await terminal.request({
            type: 'offline-upload',
            records: records.slice(i, i + MAX_RECORDS_PER_UPLOAD),
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
      return line.reopen(timeoutMs);
    },
    async close() {
      for (const t of terminals.values()) t.abort('simulator closed');
      await line.close();
    },
  };
}
