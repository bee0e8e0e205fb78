import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { NS, PASSWORD_DIGEST_TYPE } from './namespaces.ts';
import { type SimOnvifCamera, startSimOnvifCamera } from './sim-camera.ts';
import { child, childText, readEnvelope } from './soap-xml.ts';

/**
 * The simulator speaks ONVIF as the specification does, to a client that is not the `onvif` package:
 * hand-written SOAP 1.2 with its own prefixes, WS-UsernameToken digests computed here, WS-Addressing
 * headers on events. The attacks are bounded and on loopback: no token, a wrong password, a replayed
 * nonce, a stale Created time, a body that is no XML.
 */
let camera: SimOnvifCamera | undefined;
afterEach(async () => {
  await camera?.close();
  camera = undefined;
});

function usernameToken(password: string, opts: { nonce?: Buffer; created?: string; user?: string } = {}) {
  const nonce = opts.nonce ?? randomBytes(16);
  const created = opts.created ?? new Date().toISOString();
  const digest = createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(password)]))
    .digest('base64');
  return (
    `<wsse:Security xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}"><wsse:UsernameToken>` +
    `<wsse:Username>${opts.user ?? 'admin'}</wsse:Username>` +
    `<wsse:Password Type="${PASSWORD_DIGEST_TYPE}">${digest}</wsse:Password>` +
    `<wsse:Nonce>${nonce.toString('base64')}</wsse:Nonce><wsu:Created>${created}</wsu:Created>` +
    '</wsse:UsernameToken></wsse:Security>'
  );
}

async function soap(url: string, body: string, header = '') {
  const xml =
    `<soap12:Envelope xmlns:soap12="${NS.soap}" xmlns:dev="${NS.tds}" xmlns:ev="${NS.tev}" xmlns:addr="${NS.wsa}">` +
    `<soap12:Header>${header}</soap12:Header><soap12:Body>${body}</soap12:Body></soap12:Envelope>`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/soap+xml' },
    body: xml,
  });
  const text = await res.text();
  return { status: res.status, ...readEnvelope(text) };
}

/** The outermost env:Subcode of a SOAP 1.2 fault (ter:NotAuthorized, wsa:DestinationUnreachable). */
const faultSubcode = (fault: ReturnType<typeof readEnvelope>['operation']) =>
  childText(child(child(fault, NS.soap, 'Code'), NS.soap, 'Subcode'), NS.soap, 'Value');

describe('simulated ONVIF camera', () => {
  it('answers GetSystemDateAndTime before authentication and refuses GetDeviceInformation without a token', async () => {
    camera = await startSimOnvifCamera();
    const time = await soap(camera.deviceUrl, '<dev:GetSystemDateAndTime/>');
    expect(time.status).toBe(200);
    expect(time.operation).toMatchObject({ ns: NS.tds, local: 'GetSystemDateAndTimeResponse' });
    const info = await soap(camera.deviceUrl, '<dev:GetDeviceInformation/>');
    expect(info.status).toBe(400);
    expect(info.operation).toMatchObject({ ns: NS.soap, local: 'Fault' });
    expect(faultSubcode(info.operation)).toBe('ter:NotAuthorized');
  });

  it('accepts a correct PasswordDigest and refuses a wrong password, a replayed nonce and a stale Created', async () => {
    camera = await startSimOnvifCamera({ password: 'pa55' });
    const ok = await soap(camera.deviceUrl, '<dev:GetDeviceInformation/>', usernameToken('pa55'));
    expect(ok.status).toBe(200);
    expect(childText(ok.operation, NS.tds, 'Manufacturer')).toBe('Sceneway Sim');

    expect((await soap(camera.deviceUrl, '<dev:GetDeviceInformation/>', usernameToken('guess'))).status).toBe(
      400,
    );

    const nonce = randomBytes(16);
    const created = new Date().toISOString();
    const token = usernameToken('pa55', { nonce, created });
    expect((await soap(camera.deviceUrl, '<dev:GetDeviceInformation/>', token)).status).toBe(200);
    expect((await soap(camera.deviceUrl, '<dev:GetDeviceInformation/>', token)).status).toBe(400);

    const old = new Date(Date.now() - 10 * 60_000).toISOString();
    expect(
      (await soap(camera.deviceUrl, '<dev:GetDeviceInformation/>', usernameToken('pa55', { created: old })))
        .status,
    ).toBe(400);
    expect(camera.stats.authRefusals).toEqual({ 'bad-digest': 1, replayed: 1, stale: 1 });
  });

  it('gives a pull point with a WS-Addressing address, and answers PullMessages with Action and RelatesTo', async () => {
    camera = await startSimOnvifCamera({ maxPullWaitMs: 200 });
    const events = camera.deviceUrl.replace('device_service', 'events_service');
    const created = await soap(
      events,
      '<ev:CreatePullPointSubscription><ev:InitialTerminationTime>PT30S</ev:InitialTerminationTime></ev:CreatePullPointSubscription>',
      usernameToken('camera-pass'),
    );
    const address = childText(child(created.operation, NS.tev, 'SubscriptionReference'), NS.wsa, 'Address');
    expect(address).toMatch(/\/onvif\/subscription\//);
    camera.emitPlate({ plate: '京A12345', likelihood: 0.9, objectId: 'obj-1' });
    const pulled = await soap(
      address as string,
      '<ev:PullMessages><ev:Timeout>PT5S</ev:Timeout><ev:MessageLimit>5</ev:MessageLimit></ev:PullMessages>',
      `${usernameToken('camera-pass')}<addr:MessageID>urn:uuid:1234</addr:MessageID><addr:To>${address}</addr:To>`,
    );
    expect(childText(pulled.header, NS.wsa, 'Action')).toBe(
      `${NS.tev}/PullPointSubscription/PullMessagesResponse`,
    );
    expect(childText(pulled.header, NS.wsa, 'RelatesTo')).toBe('urn:uuid:1234');
    const message = child(pulled.operation, NS.wsnt, 'NotificationMessage');
    expect(childText(message, NS.wsnt, 'Topic')).toBe('tns1:RuleEngine/Recognition/LicensePlate');
    const data = child(
      child(child(child(message, NS.wsnt, 'Message'), NS.tt, 'Message'), NS.tt, 'Data'),
      NS.tt,
      'SimpleItem',
    );
    expect(data?.attrs).toEqual({ Name: 'PlateNumber', Value: '京A12345' });
  });

  it('forgets its pull points on reboot: the old address faults', async () => {
    camera = await startSimOnvifCamera({ maxPullWaitMs: 100 });
    const events = camera.deviceUrl.replace('device_service', 'events_service');
    const created = await soap(events, '<ev:CreatePullPointSubscription/>', usernameToken('camera-pass'));
    const address = childText(
      child(created.operation, NS.tev, 'SubscriptionReference'),
      NS.wsa,
      'Address',
    ) as string;
    await camera.reboot(10);
    const pulled = await soap(
      address,
      '<ev:PullMessages><ev:Timeout>PT1S</ev:Timeout><ev:MessageLimit>1</ev:MessageLimit></ev:PullMessages>',
      usernameToken('camera-pass'),
    );
    expect(pulled.status).toBe(400);
    expect(faultSubcode(pulled.operation)).toBe('wsa:DestinationUnreachable');
  });

  it('answers a body that is no XML with a Sender fault, not a crash', async () => {
    camera = await startSimOnvifCamera();
    const res = await fetch(camera.deviceUrl, { method: 'POST', body: '<<not xml' });
    expect(res.status).toBe(400);
    expect(readEnvelope(await res.text()).operation.local).toBe('Fault');
    expect((await soap(camera.deviceUrl, '<dev:GetSystemDateAndTime/>')).status).toBe(200);
  });
});
