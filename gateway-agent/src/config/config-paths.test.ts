import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBoxConfig, parseBoxConfig } from './load-config.ts';

const BANK_KEY = `04${'ab'.repeat(64)}`;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-config-paths-'));
  dirs.push(dir);
  return dir;
}

const doc = {
  version: 1,
  site: { id: 's1' },
  box: { id: 'b1' },
  bank: {
    url: 'https://bank.example/ingest',
    publicKeyHex: BANK_KEY,
    tls: { certPath: 'tls/box.crt', keyPath: './tls/box.key', caPath: '/etc/ssl/bank-ca.pem' },
  },
  ledger: { path: 'data/ledger.db', quarantineDir: '../quarantine' },
  keys: { dir: '/var/lib/sceneway/keys' },
  broker: {
    tcp: { host: '127.0.0.1', port: 1883 },
    tls: {
      port: 8883,
      certPath: 'tls/broker.crt',
      keyPath: 'tls/broker.key',
      caPath: 'tls/terminals-ca.pem',
    },
  },
};

describe('relative paths in a config file', () => {
  it("resolve against the config file's folder, not the working directory; absolute ones are kept", () => {
    const dir = configFolder();
    // The working directory of this test run is the repository, never the fresh temp folder.
    expect(process.cwd()).not.toBe(dir);
    const file = join(dir, 'box.json');
    writeFileSync(file, JSON.stringify(doc));
    const { config } = loadBoxConfig(file);
    expect(config.ledger.path).toBe(join(dir, 'data/ledger.db'));
    expect(config.ledger.quarantineDir).toBe(join(dir, '..', 'quarantine'));
    expect(config.keys.dir).toBe('/var/lib/sceneway/keys');
    // A default is relative too, and lands beside the config like a written value.
    expect(config.reconciliation.dir).toBe(join(dir, 'data/recon'));
    expect(config.bank.tls).toEqual({
      certPath: join(dir, 'tls/box.crt'),
      keyPath: join(dir, 'tls/box.key'),
      caPath: '/etc/ssl/bank-ca.pem',
    });
    expect(config.broker.tls).toMatchObject({
      certPath: join(dir, 'tls/broker.crt'),
      keyPath: join(dir, 'tls/broker.key'),
      caPath: join(dir, 'tls/terminals-ca.pem'),
    });
  });

  it('resolve the same whatever relative path names the config file', () => {
    const dir = configFolder();
    writeFileSync(join(dir, 'box.json'), JSON.stringify(doc));
    const viaRelative = loadBoxConfig(relative(process.cwd(), join(dir, 'box.json')));
    expect(viaRelative.config.ledger.path).toBe(join(dir, 'data/ledger.db'));
  });

  it('leave a parsed document without a file as written, and optional absent paths absent', () => {
    const { config } = parseBoxConfig({ ...doc, bank: { ...doc.bank, tls: undefined }, broker: undefined });
    expect(config.ledger.path).toBe('data/ledger.db');
    expect(config.bank.tls).toBeUndefined();
    expect(config.broker.tls).toBeUndefined();
  });
});
