import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { manualClock } from '@sceneway/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { FirmwareImage } from '../driver-api.ts';
import { quietDriverLogger } from '../test-support/driver-context.ts';
import { type FirmwareImageServer, startFirmwareImageServer } from './firmware-image-server.ts';

/**
 * The image server over real HTTP on an ephemeral port, attacked: wrong, foreign, expired tokens,
 * malformed ranges, too many connections, a connection that never finishes its request. The image is
 * in memory (the server reads through FirmwareImage.read only; what the bytes are is not its business).
 */
function imageOf(bytes: Buffer): FirmwareImage {
  const sm3 = createHash('sm3').update(bytes).digest('hex');
  return {
    manifest: {
      format: 1,
      family: 'face-reader',
      models: ['FR-1'],
      hardware: [],
      version: '2.0.0',
      minPreviousVersion: '1.0.0',
      size: bytes.length,
      chunkSize: 4096,
      sm3,
      chunks: [],
      releaseNotes: '',
      vendorKeyId: '0'.repeat(64),
      createdAt: '2026-12-01T00:00:00Z',
    },
    manifestBytes: Buffer.from('{}'),
    signature: Buffer.alloc(0),
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function rawSocket(server: FirmwareImageServer): Promise<Socket> {
  const { hostname, port } = new URL(server.origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.on('error', reject);
  });
}
const closed = (socket: Socket) =>
  new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    socket.once('close', () => resolve());
  });

let server: FirmwareImageServer | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

async function start(overrides: Partial<Parameters<typeof startFirmwareImageServer>[0]> = {}) {
  const clock = manualClock(Date.UTC(2026, 11, 1, 13));
  server = await startFirmwareImageServer({
    host: '127.0.0.1',
    port: 0,
    maxConnections: 8,
    maxConnectionsPerPeer: 8,
    idleTimeoutMs: 60_000,
    headersTimeoutMs: 60_000,
    clock,
    logger: quietDriverLogger,
    ...overrides,
  });
  const bytes = randomBytes(300_000);
  const image = imageOf(bytes);
  const expiresAt = clock.now() + 60_000;
  const t1 = server.grant({ readerId: 'gate-1', transferId: 't1', image, expiresAt });
  const t2 = server.grant({ readerId: 'gate-2', transferId: 't2', image, expiresAt });
  return {
    server,
    clock,
    bytes,
    t1,
    t2,
    url1: server.urlOf('gate-1', 't1'),
    url2: server.urlOf('gate-2', 't2'),
  };
}

describe('firmware image server: what it serves', () => {
  it('serves the whole image, one range (206), and answers 416 past the end', async () => {
    const s = await start();
    const whole = await get(s.url1, bearer(s.t1));
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.body.equals(s.bytes)).toBe(true);

    const part = await get(s.url1, { ...bearer(s.t1), range: 'bytes=1000-1999' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1000-1999/${s.bytes.length}`);
    expect(part.body.equals(s.bytes.subarray(1000, 2000))).toBe(true);

    const tail = await get(s.url1, { ...bearer(s.t1), range: 'bytes=299000-' });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(s.bytes.subarray(299_000))).toBe(true);

    const past = await get(s.url1, { ...bearer(s.t1), range: `bytes=${s.bytes.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${s.bytes.length}`);
    expect(past.body.length).toBe(0);

    const head = await get(s.url1, bearer(s.t1), 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(s.bytes.length));

    // Bytes handed out are counted per response, per transfer.
    const serving = s.server.serving('t1');
    expect(serving?.responses.map((r) => [r.status, r.start, r.end])).toEqual([
      [200, 0, s.bytes.length - 1],
      [206, 1000, 1999],
      [206, 299_000, s.bytes.length - 1],
    ]);
    expect(serving?.bytesServed).toBe(s.bytes.length + 1000 + 1000);
  });

  it('ignores a malformed or multi-range Range (RFC 9110 §14.2): the whole image, never multipart', async () => {
    const s = await start();
    for (const range of ['bytes=5-2', 'bytes=abc', 'bytes=0-1,5-9,0-1,0-1', 'items=0-5', 'bytes=--1']) {
      const answer = await get(s.url1, { ...bearer(s.t1), range });
      expect(answer.status, range).toBe(200);
      expect(answer.body.length, range).toBe(s.bytes.length);
    }
    expect((await get(s.url1, { ...bearer(s.t1), range: 'bytes=-0' })).status).toBe(416);
  });
});

describe('firmware image server: refusals', () => {
  it('refuses a missing, wrong, foreign or expired token, and a revoked transfer, before reading', async () => {
    const s = await start();
    expect((await get(s.url1)).status).toBe(403);
    expect((await get(s.url1, bearer(randomBytes(32).toString('base64url')))).status).toBe(403);
    // gate-2's token on gate-1's transfer, and gate-1's transfer asked for under gate-2's path.
    expect((await get(s.url1, bearer(s.t2))).status).toBe(403);
    expect((await get(s.server.urlOf('gate-2', 't1'), bearer(s.t1))).status).toBe(403);
    expect(s.server.refusals()).toMatchObject({ 'no-token': 1, 'bad-token': 2, 'wrong-reader': 1 });

    s.clock.advance(60_001);
    const expired = await get(s.url1, bearer(s.t1));
    expect(expired.status).toBe(403);
    expect(expired.body.toString()).toBe('forbidden\n'); // the same answer as a wrong token
    expect(s.server.refusals().expired).toBe(1);
    s.clock.advance(-60_001);

    s.server.revoke('t1');
    expect((await get(s.url1, bearer(s.t1))).status).toBe(403);
    expect(s.server.serving('t1')?.bytesServed).toBe(0); // not one byte of the image left the box
  });

  it('has nothing to list and takes no path to disk', async () => {
    const s = await start();
    for (const path of [
      '/',
      '/firmware',
      '/firmware/',
      '/firmware/gate-1',
      '/firmware/gate-1/../../etc/passwd',
    ]) {
      expect((await get(`${s.server.origin}${path}`, bearer(s.t1))).status, path).toBe(404);
    }
    expect((await get(`${s.server.origin}/firmware/gate-1/%2e%2e%2fetc`, bearer(s.t1))).status).toBe(404);
    expect((await get(s.url1, bearer(s.t1), 'POST')).status).toBe(405);
  });

  it('bounds connections: one over maxConnections is closed at once, the others are served', async () => {
    const s = await start({ maxConnections: 4 });
    for (let i = 0; i < 4; i++) sockets.push(await rawSocket(s.server));
    const extra = await rawSocket(s.server);
    sockets.push(extra);
    await closed(extra); // idle timeout is a minute: only the cap closes it now
    const held = sockets[0] as Socket;
    const reply = new Promise<string>((resolve) => {
      let text = '';
      held.on('data', (b: Buffer) => {
        text += b.toString('latin1');
        if (text.includes('\r\n\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
      });
    });
    held.write(`HEAD /firmware/gate-1/t1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.t1}\r\n\r\n`);
    expect(await reply).toBe('HTTP/1.1 200 OK');
  });

  it('bounds connections per peer: one address cannot take every slot', async () => {
    const s = await start({ maxConnections: 8, maxConnectionsPerPeer: 2 });
    for (let i = 0; i < 2; i++) sockets.push(await rawSocket(s.server));
    const third = await rawSocket(s.server);
    sockets.push(third);
    await closed(third);
    expect(s.server.peerRefusals()).toBe(1);
    // The two it holds are served.
    const held = sockets[1] as Socket;
    const reply = new Promise<string>((resolve) => {
      let text = '';
      held.on('data', (b: Buffer) => {
        text += b.toString('latin1');
        if (text.includes('\r\n\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
      });
    });
    held.write(`HEAD /firmware/gate-1/t1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.t1}\r\n\r\n`);
    expect(await reply).toBe('HTTP/1.1 200 OK');
  });

  it('closes a connection that goes quiet in the middle of its request (idle timeout)', async () => {
    const s = await start({ idleTimeoutMs: 300 });
    const socket = await rawSocket(s.server);
    sockets.push(socket);
    socket.write('GET /firmware/gate-1/t1 HTTP/1.1\r\nHost: x\r\n');
    await closed(socket);
    expect(socket.destroyed).toBe(true);
  });

  it('closes a slowloris that drips its headers byte by byte (headers timeout)', async () => {
    const s = await start({ headersTimeoutMs: 500 });
    const socket = await rawSocket(s.server);
    sockets.push(socket);
    const request = `GET /firmware/gate-1/t1 HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(100_000)}`;
    let at = 0;
    // One byte every 20 ms never lets the socket go idle; only the headers deadline can close it.
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(request.charAt(at++));
    }, 20);
    try {
      await closed(socket);
    } finally {
      clearInterval(drip);
    }
    expect(at).toBeLessThan(request.length);
    // Node sweeps for late headers every 30 s unless told otherwise: a 0.5 s deadline that only that
    // sweep enforces holds a slowloris 60 times longer. The test's own limit catches that (red once).
  }, 15_000);
});
