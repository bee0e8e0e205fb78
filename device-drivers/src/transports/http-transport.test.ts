import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransportFactory } from './http-transport.ts';

let server: Server;
let baseUrl: string;
let followed = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ok') {
      res.end('<Envelope/>');
    } else if (req.url === '/endless') {
      // A hostile or broken device: no length, and more bytes than anyone asked for.
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = () => {
        while (res.write(chunk)) if (res.writableLength > 1 << 20) break;
      };
      res.on('drain', pump);
      pump();
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: '/followed' }).end();
    } else if (req.url === '/followed') {
      followed++;
      res.end('followed');
    } else if (req.url === '/count') {
      // Echoes how the body came: its length, and whether it was framed by Content-Length.
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      req.on('end', () => res.end(JSON.stringify({ bytes, length: req.headers['content-length'] ?? null })));
    } else if (req.url === '/silent') {
      // never answers
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? String(e),
  );

describe('HTTP transport', () => {
  it('returns status, headers and body of one exchange', async () => {
    const http = await createHttpTransportFactory().open({ kind: 'http', baseUrl });
    const answer = await http.request('GET', '/ok');
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('<Envelope/>');
  });

  it('stops reading a body past the size limit', async () => {
    const http = await createHttpTransportFactory().open({ kind: 'http', baseUrl, maxResponseBytes: 4096 });
    expect(await codeOf(http.request('GET', '/endless'))).toBe('HTTP_RESPONSE_TOO_LARGE');
  });

  it('gives up on a device that never answers', async () => {
    const http = await createHttpTransportFactory().open({ kind: 'http', baseUrl, timeoutMs: 200 });
    expect(await codeOf(http.request('GET', '/silent'))).toBe('HTTP_TIMEOUT');
  });

  it('never follows a redirect and never leaves the device origin', async () => {
    const http = await createHttpTransportFactory().open({ kind: 'http', baseUrl });
    expect((await http.request('GET', '/redirect')).status).toBe(302);
    expect(followed).toBe(0);
    expect(await codeOf(http.request('GET', '//198.51.100.7/x'))).toBe('HTTP_PATH_INVALID');
    expect(await codeOf(http.request('GET', 'http://198.51.100.7/x'))).toBe('HTTP_PATH_INVALID');
  });

  it('streams an async-iterable body (a firmware upload), with its Content-Length, under its own deadline', async () => {
    const http = await createHttpTransportFactory().open({ kind: 'http', baseUrl, timeoutMs: 200 });
    let pulled = 0;
    async function* body() {
      for (let i = 0; i < 64; i++) {
        pulled++;
        yield Buffer.alloc(64 * 1024, i);
      }
    }
    const answer = await http.request('POST', '/count', {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(64 * 64 * 1024) },
      body: body(),
      timeoutMs: 30_000,
    });
    expect(JSON.parse(answer.body.toString())).toEqual({
      bytes: 4 * 1024 * 1024,
      length: String(4 * 1024 * 1024),
    });
    expect(pulled).toBe(64);
    // The request's own deadline applies to that request only; the endpoint's stays for the rest.
    expect(await codeOf(http.request('GET', '/silent'))).toBe('HTTP_TIMEOUT');
  });

  it('refuses requests once closed', async () => {
    const http = await createHttpTransportFactory().open({ kind: 'http', baseUrl });
    await http.close();
    expect(await codeOf(http.request('GET', '/ok'))).toBe('HTTP_CLOSED');
  });
});
