import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { packageOf, testFirmware, vendorKeys } from './firmware-test-image.ts';
import { type SimOnvifCamera, startSimOnvifCamera } from './sim-camera.ts';

/**
 * The simulated camera's upload endpoint under attack, by hand over HTTP: an UploadUri is good once,
 * for a limited time, only until the next StartFirmwareUpgrade, only as application/octet-stream, and
 * for no more bytes than the package's manifest announces. StartFirmwareUpgrade itself is signed:
 * without a UsernameToken there is no UploadUri to be had.
 */
const vendor = vendorKeys();
let camera: SimOnvifCamera | undefined;
afterEach(async () => {
  await camera?.firmwareSettled();
  await camera?.close();
  camera = undefined;
});

async function cam(): Promise<SimOnvifCamera> {
  camera = await startSimOnvifCamera({ vendorPublicKeys: [vendor.publicKeyHex], firmwareRebootMs: 50 });
  return camera;
}

/** POSTs `body` (a Buffer, or pieces sent chunked); resolves with the status, or 'reset' when cut. */
function post(
  uri: string,
  body: Buffer | Buffer[],
  headers: Record<string, string> = { 'content-type': 'application/octet-stream' },
): Promise<number | 'reset'> {
  return new Promise((resolve) => {
    const req = request(uri, { method: 'POST', headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve('reset'));
    if (Buffer.isBuffer(body)) req.end(body);
    else {
      for (const piece of body) req.write(piece);
      req.end();
    }
  });
}

const base = (c: SimOnvifCamera) => `http://127.0.0.1:${c.port}`;

describe('sim camera: the firmware UploadUri', () => {
  it('takes a valid package once: a replay of the same UploadUri is refused', async () => {
    const c = await cam();
    const { uri } = c.firmware.issue(base(c));
    const pkg = packageOf(testFirmware({ vendor, version: '2.0.0' }));
    const rebooted = new Promise((resolve) => c.once('rebooted', resolve));
    expect(await post(uri, pkg)).toBe(200);
    await rebooted;
    expect(await post(uri, pkg)).toBe(404);
    expect(c.firmwareStatus()).toMatchObject({
      version: '2.0.0',
      uploads: { flashed: 1, refused: { 404: 1 } },
    });
  });

  it('is spent by a refused upload too', async () => {
    const c = await cam();
    const { uri } = c.firmware.issue(base(c));
    expect(await post(uri, Buffer.from('not a package'))).toBe(415);
    expect(await post(uri, packageOf(testFirmware({ vendor, version: '2.0.0' })))).toBe(404);
    expect(c.firmwareStatus().uploads.flashed).toBe(0);
  });

  it('refuses a guessed, an expired and a superseded UploadUri', async () => {
    const c = await cam();
    const pkg = packageOf(testFirmware({ vendor, version: '2.0.0' }));
    const { uri } = c.firmware.issue(base(c));
    expect(await post(`${base(c)}/onvif/firmware/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, pkg)).toBe(404);
    expect(await post(`${uri}x`, pkg)).toBe(404);
    const expiring = c.firmware.issue(base(c)).uri;
    c.advanceClock(61_000);
    expect(await post(expiring, pkg)).toBe(404);
    const first = c.firmware.issue(base(c)).uri;
    c.firmware.issue(base(c));
    expect(await post(first, pkg)).toBe(404);
    expect(await post(uri, pkg)).toBe(404);
    expect(c.firmwareStatus()).toMatchObject({
      version: '1.0.0',
      uploads: { flashed: 0, uploadsStarted: 0 },
    });
  });

  it('takes the firmware only as application/octet-stream', async () => {
    const c = await cam();
    const { uri } = c.firmware.issue(base(c));
    const pkg = packageOf(testFirmware({ vendor, version: '2.0.0' }));
    expect(await post(uri, pkg, { 'content-type': 'multipart/form-data; boundary=x' })).toBe(415);
  });

  it('takes no more bytes than the manifest announces: a longer Content-Length is refused at the head', async () => {
    const c = await cam();
    const { uri } = c.firmware.issue(base(c));
    const pkg = packageOf(testFirmware({ vendor, version: '2.0.0', size: 200_000 }));
    const padded = Buffer.concat([pkg, Buffer.alloc(1_000_000)]);
    const answer = await post(uri, padded, {
      'content-type': 'application/octet-stream',
      'content-length': String(padded.length),
    });
    expect([413, 'reset']).toContain(answer);
    const { uploads } = c.firmwareStatus();
    expect(uploads).toMatchObject({ flashed: 0, refused: { 413: 1 } });
    // Cut at the head: the camera did not take in the megabyte behind it.
    expect(uploads.bytesReceived).toBeLessThan(pkg.length);
  });

  it('cuts a chunked body that runs past the image size the manifest announces', async () => {
    const c = await cam();
    const { uri } = c.firmware.issue(base(c));
    const pkg = packageOf(testFirmware({ vendor, version: '2.0.0', size: 200_000 }));
    const pieces = [pkg, ...Array.from({ length: 16 }, () => Buffer.alloc(64 * 1024))];
    const answer = await post(uri, pieces, { 'content-type': 'application/octet-stream' });
    expect([413, 'reset']).toContain(answer);
    const { uploads } = c.firmwareStatus();
    expect(uploads).toMatchObject({ flashed: 0, refused: { 413: 1 } });
    expect(uploads.bytesReceived).toBeLessThan(pkg.length + 16 * 64 * 1024);
    expect(c.firmwareStatus().slots.slots.B).toBeNull();
  });

  it('gives no UploadUri without a UsernameToken', async () => {
    const c = await cam();
    const soap =
      '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>' +
      '<StartFirmwareUpgrade xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>';
    const answer = await fetch(c.deviceUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/soap+xml' },
      body: soap,
    });
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('ter:NotAuthorized');
    expect(c.firmwareStatus().uploads.urisIssued).toBe(0);
  });
});
