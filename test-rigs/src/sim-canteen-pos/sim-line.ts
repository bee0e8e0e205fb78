import { randomBytes } from 'node:crypto';
import type { ByteTransportFactory, Transport } from '@sceneway/device-drivers';
import { createSerialTransportFactory } from '@sceneway/device-drivers';
import { createWireParser, HEADER_BYTES, type WireFrame } from './wire/index.ts';

const serialTransports = createSerialTransportFactory();

export interface LineFaults {
  /** Corrupt the CRC of this many of the next frames sent. */
  badCrcFrames: number;
  /** Send every frame in pieces of this many bytes with a short pause between (0 = whole frames). */
  splitChunkBytes: number;
}

export interface SimLineOptions {
  path: string;
  baudRate: number;
  onFrame(frame: WireFrame): void;
  /** How the terminal's end is opened; default the serial transport (a pty or a real device). */
  transports?: ByteTransportFactory;
}

const SPLIT_PAUSE_MS = 3;
/** docs/protocols/canteen-pos.md §2.2 step 4: an incomplete frame is dropped after 100 ms of silence. */
const INTER_BYTE_TIMEOUT_MS = 100;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The terminal end of the wire: a real `serialport` on the simulator's pty (the same serial transport
 * the agent uses: a transport, not the box's codec), the terminal's own frame parser (wire/frame.ts,
 * written from the document), and the line faults a cheap RS-485 adapter produces.
 */
export class SimLine {
  readonly faults: LineFaults = { badCrcFrames: 0, splitChunkBytes: 0 };
  private transport: Transport | null = null;
  private parser = createWireParser();
  private idleTimer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Frames written, for tests that count retransmissions. */
  framesSent = 0;

  constructor(private readonly options: SimLineOptions) {}

  get isOpen(): boolean {
    return this.transport?.isOpen ?? false;
  }

  /** Damaged candidates and junk the terminal's parser dropped. */
  get lineErrors(): number {
    return this.parser.dropped;
  }

  async open(): Promise<void> {
    if (this.transport?.isOpen) return;
    const transport = await (this.options.transports ?? serialTransports).open({
      kind: 'serial',
      path: this.options.path,
      baudRate: this.options.baudRate,
    });
    this.parser = createWireParser();
    transport.onData((bytes) => {
      clearTimeout(this.idleTimer);
      for (const frame of this.parser.push(bytes)) this.options.onFrame(frame);
      if (this.parser.buffered > 0) {
        this.idleTimer = setTimeout(() => this.parser.idle(), INTER_BYTE_TIMEOUT_MS);
        this.idleTimer.unref();
      }
    });
    transport.onClose(() => {
      if (this.transport === transport) this.transport = null;
    });
    this.transport = transport;
  }

  /** After a replug: try to open the line again until it is back (an absent line refuses the open). */
  async reopen(timeoutMs = 5000): Promise<void> {
    await this.close();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.open();
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(`${this.options.path} did not come back within ${timeoutMs} ms`, { cause: err });
        }
      }
      await pause(20);
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const transport = this.transport;
    this.transport = null;
    await transport?.close();
  }

  /** Queues a frame; faults apply here. Write errors are swallowed: a terminal on a dead line just times out. */
  sendFrame(frame: Buffer): void {
    let bytes = frame;
    if (this.faults.badCrcFrames > 0) {
      this.faults.badCrcFrames--;
      bytes = Buffer.from(frame);
      const crcAt = bytes.length - 3;
      bytes[crcAt] = bytes[crcAt]! ^ 0x5a;
    }
    this.framesSent++;
    this.enqueue(bytes, this.faults.splitChunkBytes);
  }

  /** Raw bytes outside any frame. Defaults to random junk that starts with STX, the nastiest kind. */
  sendJunk(bytes: Buffer = Buffer.concat([Buffer.from([0x02]), randomBytes(HEADER_BYTES + 24)])): void {
    this.enqueue(bytes, 0);
  }

  private enqueue(bytes: Buffer, chunk: number): void {
    this.chain = this.chain.then(() => this.write(bytes, chunk)).catch(() => undefined);
  }

  private async write(bytes: Buffer, chunk: number): Promise<void> {
    const transport = this.transport;
    if (!transport?.isOpen) return;
    const pieces: Buffer[] = [];
    if (chunk > 0) for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.subarray(i, i + chunk));
    else pieces.push(bytes);
    for (const [i, piece] of pieces.entries()) {
      await transport.write(piece);
      if (i < pieces.length - 1) await pause(SPLIT_PAUSE_MS);
    }
  }

  /** Resolves when every queued write has been handed to the OS. */
  flushed(): Promise<void> {
    return this.chain;
  }
}
