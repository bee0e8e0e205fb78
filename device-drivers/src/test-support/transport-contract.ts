import { describe, expect, it } from 'vitest';
import { DriverError } from '../driver-error.ts';
import type { ByteEndpoint, ByteTransportFactory, Transport } from '../transport.ts';

/**
 * What every Transport promises a driver, as one suite run against each implementation (aedes'
 * abstract persistence tests, STYLE.md "one contract, one suite"). The memory transport runs it
 * beside the serial transport on socat ptys, so a driver test on the memory line relies on nothing
 * the real line does not do. Error codes differ by binding; the contract asks for a DriverError.
 */
export interface TransportLine {
  /** The driver's side: the factory under test and the endpoint it opens. */
  factory: ByteTransportFactory;
  endpoint: ByteEndpoint;
  /** An endpoint of the same kind with nothing behind it. */
  missing: ByteEndpoint;
  /** Opens the far end (the device side) of the line. */
  openFar(): Promise<Transport>;
  /** The line vanishes under both ends (cable pulled, socat died). */
  unplug(): Promise<void>;
  /** Makes the line stop taking bytes, and returns a write of `near` left pending (boxed: not awaited). */
  stallWrite(near: Transport, far: Transport): Promise<{ pending: Promise<void> }>;
  close(): Promise<void>;
}

export interface TransportContractKit {
  name: string;
  setup(): Promise<TransportLine>;
}

function collect(t: Transport, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    t.onData((chunk) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      if (all.length >= length) resolve(all);
    });
  });
}

const firstClose = (t: Transport) => new Promise<Error | null>((resolve) => t.onClose(resolve));

export function runTransportContract(kit: TransportContractKit): void {
  describe(`transport contract: ${kit.name}`, () => {
    async function withLine<T>(body: (line: TransportLine, opened: Transport[]) => Promise<T>): Promise<T> {
      const line = await kit.setup();
      const opened: Transport[] = [];
      try {
        return await body(line, opened);
      } finally {
        for (const t of opened) await t.close().catch(() => undefined);
        await line.close();
      }
    }
    const openBoth = async (line: TransportLine, opened: Transport[]) => {
      const near = await line.factory.open(line.endpoint);
      const far = await line.openFar();
      opened.push(near, far);
      return [near, far] as const;
    };

    it('carries bytes both ways, in order', () =>
      withLine(async (line, opened) => {
        const [near, far] = await openBoth(line, opened);
        const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => i & 0xff));
        const atFar = collect(far, payload.length);
        await near.write(payload.subarray(0, 1000));
        await near.write(payload.subarray(1000));
        expect(await atFar).toEqual(payload);
        const atNear = collect(near, 3);
        await far.write(new Uint8Array([1, 2, 3]));
        expect([...(await atNear)]).toEqual([1, 2, 3]);
        expect(near.isOpen).toBe(true);
      }));

    it('closes once with an error when the line vanishes, then refuses writes', () =>
      withLine(async (line, opened) => {
        const [near] = await openBoth(line, opened);
        const closes: Array<Error | null> = [];
        near.onClose((err) => closes.push(err));
        const closed = firstClose(near);
        await line.unplug();
        expect(await closed).toBeInstanceOf(Error);
        await near.close();
        await new Promise<void>((resolve) => near.onClose(() => resolve()));
        expect(closes).toHaveLength(1);
        expect(near.isOpen).toBe(false);
        await expect(near.write(new Uint8Array([1]))).rejects.toBeInstanceOf(DriverError);
      }));

    it('rejects a pending write when the transport closes, so no caller hangs', () =>
      withLine(async (line, opened) => {
        const [near, far] = await openBoth(line, opened);
        const { pending } = await line.stallWrite(near, far);
        const outcome = pending.then(
          () => 'resolved',
          (err: unknown) => (err instanceof DriverError ? 'DriverError' : 'other error'),
        );
        await near.close();
        expect(await outcome).toBe('DriverError');
      }));

    it('closes with null on close(), once, and a listener added afterwards still hears it', () =>
      withLine(async (line, opened) => {
        const [near] = await openBoth(line, opened);
        const seen: Array<Error | null> = [];
        near.onClose((err) => seen.push(err));
        await near.close();
        await near.close();
        expect(await firstClose(near)).toBeNull();
        expect(seen).toEqual([null]);
      }));

    it('refuses a missing device, a second open of a held one, and an aborted open', () =>
      withLine(async (line, opened) => {
        await expect(line.factory.open(line.missing)).rejects.toBeInstanceOf(DriverError);
        const [near] = await openBoth(line, opened);
        expect(near.isOpen).toBe(true);
        await expect(line.factory.open(line.endpoint)).rejects.toBeInstanceOf(DriverError);
        await near.close();
        const aborted = new AbortController();
        aborted.abort();
        await expect(line.factory.open(line.endpoint, aborted.signal)).rejects.toBeInstanceOf(DriverError);
      }));
  });
}
