import http from 'node:http';
import net from 'node:net';

/** One POST from a chosen loopback source address (127.0.0.0/8 all reach the bank's 127.0.0.1). */
export function postFrom(
  url: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  localAddress = '127.0.0.1',
): Promise<{ status: number; body: Buffer }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path, method: 'POST', headers, localAddress, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    // The bank may answer and close before the whole body is sent: that is the point of some tests.
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e);
    });
    req.end(body);
  });
}

/**
 * Declares a `declaredBytes` body and keeps writing it for as long as the bank reads; resolves once
 * the bank closed the connection, with its answer and how many body bytes the socket took.
 */
export function uploadUntilClosed(
  url: string,
  path: string,
  declaredBytes: number,
): Promise<{ answer: string; bodyBytesWritten: number }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port) });
    let answer = '';
    let written = 0;
    let closed = false;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = () => {
      while (!closed && written < declaredBytes) {
        written += chunk.length;
        if (!socket.write(chunk)) return; // wait for 'drain': the bank is not reading
      }
    };
    socket.on('connect', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${declaredBytes}\r\n\r\n`,
      );
      pump();
    });
    socket.on('drain', pump);
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      resolve({ answer, bodyBytesWritten: written });
    });
  });
}
