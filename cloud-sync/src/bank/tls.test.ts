import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { type BankServer, startBankServer } from './server.ts';
import { makeTestPki } from './test-support/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'sceneway-bank-tls-'));

const makePki = () => makeTestPki(dir);

function get(url: string, client: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      `${url}/healthz`,
      {
        ca: readFileSync(join(dir, 'ca.pem')),
        ...(client
          ? { cert: readFileSync(join(dir, 'client.pem')), key: readFileSync(join(dir, 'client.key')) }
          : {}),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
  });
}

describe('mutual TLS (004 §5.3.1 f)', () => {
  let bank: BankServer | undefined;
  beforeAll(async () => {
    makePki();
    bank = await startBankServer({
      dbPath: join(dir, 'bank.db'),
      bankPrivateKeyHex: generateSm2KeyPair().privateKeyHex,
      logLevel: 'silent',
      tls: {
        certPath: join(dir, 'server.pem'),
        keyPath: join(dir, 'server.key'),
        caPath: join(dir, 'ca.pem'),
      },
    });
  });
  afterAll(async () => {
    await bank?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a box that presents a certificate from the configured CA and refuses one that does not', async () => {
    const url = bank?.url ?? '';
    expect(url.startsWith('https://')).toBe(true);
    expect(await get(url, true)).toBe(200);
    await expect(get(url, false)).rejects.toThrow();
  });
});
