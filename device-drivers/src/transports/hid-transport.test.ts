import { describe, expect, it } from 'vitest';
import { createFakeUsbBus } from '../hid-reader/fake-hid-api.ts';
import type { HidEndpoint } from '../transport.ts';
import { createHidTransportFactory } from './hid-transport.ts';

const READER = {
  vendorId: 0x1a86,
  productId: 0xe026,
  path: '/dev/hidraw3',
  serialNumber: 'R-0001',
  interface: 0,
};
const endpoint = (extra: Partial<HidEndpoint> = {}): HidEndpoint => ({
  kind: 'hid',
  vendorId: READER.vendorId,
  productId: READER.productId,
  ...extra,
});
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: { code?: string }) => e.code ?? String(e),
  );

describe('HID transport', () => {
  it('opens the device by vendor/product id and hands over each input report, also those before onData', async () => {
    const bus = createFakeUsbBus();
    bus.plug(READER);
    const transport = await createHidTransportFactory(bus.api).open(endpoint());
    bus.send(READER.path, [1, 2, 3]);
    const got: number[][] = [];
    transport.onData((report) => got.push([...report]));
    bus.send(READER.path, [4, 5]);
    expect(got).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(transport.isOpen).toBe(true);
    await transport.write(Uint8Array.from([0x05, 0x01]));
    await transport.close();
  });

  it('names what is wrong: absent, ambiguous, or held by another program', async () => {
    const bus = createFakeUsbBus();
    const factory = createHidTransportFactory(bus.api);
    expect(await codeOf(factory.open(endpoint()))).toBe('HID_NOT_FOUND');
    bus.plug(READER);
    bus.plug({ ...READER, path: '/dev/hidraw4', serialNumber: 'R-0002' });
    expect(await codeOf(factory.open(endpoint()))).toBe('HID_AMBIGUOUS');
    bus.holdElsewhere('/dev/hidraw4', true);
    expect(await codeOf(factory.open(endpoint({ serialNumber: 'R-0002' })))).toBe('HID_BUSY');
    const first = await factory.open(endpoint({ serialNumber: 'R-0001' }));
    expect(await codeOf(factory.open(endpoint({ serialNumber: 'R-0001' })))).toBe('HID_BUSY');
    await first.close();
    const again = await factory.open(endpoint({ serialNumber: 'R-0001' }));
    await again.close();
    expect(bus.opens(READER.path)).toBe(2);
  });

  it('reports an unplug once, as HID_UNPLUGGED, and a close once, as null', async () => {
    const bus = createFakeUsbBus();
    bus.plug(READER);
    const factory = createHidTransportFactory(bus.api);
    const transport = await factory.open(endpoint());
    const closes: Array<string | null> = [];
    transport.onClose((e) => closes.push(e ? ((e as { code?: string }).code ?? e.message) : null));
    bus.unplug(READER.path);
    bus.unplug(READER.path);
    await transport.close();
    transport.onClose((e) => closes.push(e ? 'late:' + (e as { code?: string }).code : 'late:null'));
    await new Promise((r) => setImmediate(r));
    expect(closes).toEqual(['HID_UNPLUGGED', 'late:HID_UNPLUGGED']);
    expect(transport.isOpen).toBe(false);
    await expect(transport.write(Uint8Array.from([1]))).rejects.toMatchObject({ code: 'HID_WRITE_FAILED' });

    bus.plug(READER);
    const second = await factory.open(endpoint());
    const secondCloses: Array<Error | null> = [];
    second.onClose((e) => secondCloses.push(e));
    await second.close();
    await second.close();
    expect(secondCloses).toEqual([null]);
    expect(bus.isOpen(READER.path)).toBe(false);
  });

  it('honours an aborted signal and refuses other endpoint kinds', async () => {
    const bus = createFakeUsbBus();
    bus.plug(READER);
    const factory = createHidTransportFactory(bus.api);
    expect(await codeOf(factory.open(endpoint(), AbortSignal.abort()))).toBe('HID_OPEN_ABORTED');
    expect(await codeOf(factory.open({ kind: 'serial', path: '/dev/null', baudRate: 9600 }))).toBe(
      'TRANSPORT_KIND_UNSUPPORTED',
    );
  });

  it('loads the real node-hid on first use and enumerates this machine', async () => {
    // No reader has vendor:product ffff:fffe, so the real device list answers "not found".
    const factory = createHidTransportFactory();
    expect(await codeOf(factory.open({ kind: 'hid', vendorId: 0xffff, productId: 0xfffe }))).toBe(
      'HID_NOT_FOUND',
    );
  });
});
