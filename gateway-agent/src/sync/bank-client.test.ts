import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type BankClient, createBankClient, DEFAULT_MAX_ANSWER_BYTES } from './bank-client.ts';

/**
 * The bank client against a hostile "bank" on 127.0.0.1 (issue #11: a 600 MiB answer took the agent to
 * 1.3 GB RSS; a reply dripped at 1 byte/s passed the 3 s "hard timeout").
 */
const HUGE = 600 * 1024 * 1024;
const CHUNK = 64 * 1024;
/** 100 ms apart: 4 s in all, well past the 1.5 s deadline the drip test sets. */
const DRIP_BYTES = 40;

interface HostileBank {
  url: string;
  /** Bytes of body the server's socket accepted before the client closed it. */
  written(): number;
  closed: Promise<void>;
  stop(): Promise<void>;
}

async function hostileBank(answer: 'declared' | 'chunked' | 'drip'): Promise<HostileBank> {
  let written = 0;
  let markClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  let drip: NodeJS.Timeout | undefined;
  const server = http.createServer((req, res) => {
    if (req.url === '/ok') {
      res.end('{"ok":true}');
      return;
    }
    res.on('close', () => {
      clearInterval(drip);
      markClosed();
    });
    if (answer === 'drip') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(DRIP_BYTES) });
      // Always under any idle timeout, done only after the deadline: only a total deadline refuses it.
      // Bounded: the answer ends after DRIP_BYTES, so an idle-timeout client resolves (the test fails).
      drip = setInterval(() => {
        written += 1;
        res.write('x');
        if (written === DRIP_BYTES) {
          clearInterval(drip);
          res.end();
        }
      }, 100);
      return;
    }
    res.writeHead(200, answer === 'declared' ? { 'content-length': String(HUGE) } : {});
    // Streams only as fast as the client reads (write → drain), so the server holds one chunk.
    const block = Buffer.alloc(CHUNK, 0x20);
    const pump = () => {
      while (written < HUGE && !res.destroyed) {
        written += CHUNK;
        if (!res.write(block)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    written: () => written,
    closed,
    async stop() {
      clearInterval(drip);
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

const started: Array<{ stop(): Promise<void> | void }> = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});

async function rig(answer: 'declared' | 'chunked' | 'drip', deadlineMs = 30_000) {
  const bank = await hostileBank(answer);
  const client: BankClient = createBankClient({ baseUrl: bank.url, timeoutMs: deadlineMs });
  started.push(bank, { stop: () => client.close() });
  return { bank, client };
}

const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the request to be refused');
    },
    (error: unknown) => error as { code?: string; message: string },
  );

describe('bank client: answers it does not take', () => {
  it('refuses a 600 MiB answer by its declared length, reading none of it', async () => {
    const { bank, client } = await rig('declared');
    const error = await failureOf(client.get('/v1/blacklist?since=0', {}));
    expect(error.code).toBe('SYNC_ANSWER_TOO_LARGE');
    expect(error.message).toContain(`declares ${HUGE} bytes`);
    await bank.closed;
    // What the server could push into loopback socket buffers before the close, never the answer.
    expect(bank.written()).toBeLessThan(DEFAULT_MAX_ANSWER_BYTES + 16 * 1024 * 1024);
  });

  it('cuts off a 600 MiB answer streamed without a length after cap + one chunk', async () => {
    const { bank, client } = await rig('chunked');
    const heapBefore = process.memoryUsage().heapUsed;
    const error = await failureOf(client.post('/v1/batches', Buffer.from('{}'), {}));
    expect(error.code).toBe('SYNC_ANSWER_TOO_LARGE');
    const read = Number(/passed (\d+) bytes/.exec(error.message)?.[1]);
    expect(read).toBeGreaterThan(DEFAULT_MAX_ANSWER_BYTES);
    expect(read).toBeLessThanOrEqual(DEFAULT_MAX_ANSWER_BYTES + CHUNK);
    await bank.closed;
    expect(bank.written()).toBeLessThan(DEFAULT_MAX_ANSWER_BYTES + 16 * 1024 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('a per-request cap (the blacklist feed) overrides the default', async () => {
    const { client } = await rig('chunked');
    const error = await failureOf(client.get('/v1/blacklist', {}, { maxAnswerBytes: 256 * 1024 }));
    expect(error.code).toBe('SYNC_ANSWER_TOO_LARGE');
    expect(Number(/passed (\d+) bytes/.exec(error.message)?.[1])).toBeLessThanOrEqual(256 * 1024 + CHUNK);
  });

  it('refuses an answer dripped faster than any idle timeout at the total deadline', async () => {
    const { bank, client } = await rig('drip', 1_500);
    const error = await failureOf(client.post('/v1/batches', Buffer.from('{}'), {}));
    expect(error.code).toBe('SYNC_BANK_DEADLINE');
    await bank.closed;
    expect(bank.written()).toBeLessThan(DRIP_BYTES);
  });

  it('after a refusal the next request gets a fresh connection and its answer', async () => {
    const { client } = await rig('chunked');
    await failureOf(client.get('/huge', {}));
    const answer = await client.get('/ok', {});
    expect(answer).toMatchObject({ status: 200 });
    expect(answer.body.toString()).toBe('{"ok":true}');
  });
});
