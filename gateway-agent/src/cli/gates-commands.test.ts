import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { legacyHolderDigests } from '@sceneway/cloud-sync';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../broker/password-hash.ts';
import { faceDataKey, openFaceDataStore } from '../gates/face-data-store.ts';
import { personDigestOf } from '../gates/gates-rules.ts';
import { loadBoxKeys } from '../keys/box-keys.ts';
import { openTerminalKeyStore } from '../keys/terminal-keys.ts';
import { openLedger } from '../ledger/ledger.ts';
import { TEST_DATA_KEY } from '../ledger/test-support.ts';

const BIN = fileURLToPath(new URL('../../bin/sceneway.js', import.meta.url));
const PASSPHRASE = 'gates-cli-test-passphrase';
const ENV = { SCENEWAY_KEY_PASSPHRASE: PASSPHRASE };

function sceneway(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...ENV },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A box with one face reader, a gates scenario naming EMP-1, its keys and a ledger file. */
let dir: string;
let config: string;
let template: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sceneway-gates-cli-'));
  expect(sceneway(['keys', 'init', '--dir', join(dir, 'keys')]).code).toBe(0);
  config = join(dir, 'box.json');
  writeFileSync(
    config,
    JSON.stringify({
      version: 2,
      site: { id: 'campus-east' },
      box: { id: 'box-gates' },
      bank: { url: 'https://bank.example/ingest', publicKeyHex: `04${'ab'.repeat(64)}` },
      keys: { dir: join(dir, 'keys') },
      ledger: { path: join(dir, 'ledger.db') },
      drivers: [
        {
          driver: 'face-reader',
          config: {
            readers: [
              { id: 'gate-1', username: 'gate-1-user', passwordHash: hashPassword('gate one pass 11') },
            ],
          },
        },
      ],
      scenarios: {
        gates: {
          zones: [{ id: 'campus' }],
          readers: [{ reader: 'gate-1', zone: 'campus', direction: 'in' }],
          groups: [{ id: 'staff', windows: [{ from: '00:00', to: '24:00' }] }],
          persons: [{ id: 'EMP-1', group: 'staff' }],
        },
      },
    }),
  );
  await openLedger({ path: join(dir, 'ledger.db'), boxId: 'box-gates', dataKey: TEST_DATA_KEY }).close();
  template = join(dir, 'emp-1.tpl');
  writeFileSync(template, Buffer.from('FACE-TEMPLATE-EMP-1|'.repeat(20)));
}, 120_000);

const faceRow = () => {
  const { privateKeyHex } = loadBoxKeys({ dir: join(dir, 'keys'), passphrase: PASSPHRASE });
  const db = new Database(join(dir, 'ledger.db'));
  openFaceDataStore(db, faceDataKey(privateKeyHex)); // its table, if no add ever ran
  try {
    const person = personDigestOf(legacyHolderDigests, 'EMP-1');
    return {
      rows: db.prepare('SELECT count(*) FROM gate_face_data WHERE person = ?').pluck().get(person),
      opened: openFaceDataStore(db, faceDataKey(privateKeyHex)).open(person),
    };
  } finally {
    db.close();
  }
};

describe('sceneway gates person add|remove', () => {
  it('has --help', () => {
    for (const sub of ['add', 'remove']) {
      const r = sceneway(['gates', 'person', sub, '--help']);
      expect(r.code, sub).toBe(0);
      expect(r.stdout).toMatch(/Usage: sceneway gates person/);
    }
  });

  it('refuses bad input with the field named, and writes nothing', () => {
    const idFile = join(dir, 'bad-id.txt');
    writeFileSync(idFile, '12345\n');
    const cases: Array<[string[], RegExp]> = [
      [
        ['add', 'EMP-1', '--config', config, '--template', join(dir, 'missing.tpl')],
        /CLI_USAGE.*--template: no file at/,
      ],
      [
        ['add', 'EMP-1', '--config', config, '--template', template, '--id-number-file', idFile],
        /CLI_USAGE.*--id-number-file: expected an 18-character/,
      ],
      [
        ['add', 'NOBODY-7', '--config', config, '--template', template],
        /CLI_USAGE.*<personId>: not in scenarios\.gates\.persons/,
      ],
      [['add', 'EMP-1', '--config', config], /--template/],
    ];
    for (const [args, error] of cases) {
      const r = sceneway(['gates', 'person', ...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(error);
      expect(r.stderr).not.toMatch(/NOBODY-7|12345/);
    }
    expect(faceRow().rows).toBe(0);
  }, 120_000);

  it('add seals the template and ID number in the ledger file; remove deletes the row', () => {
    const idFile = join(dir, 'id.txt');
    writeFileSync(idFile, '11010119900307451X\n');
    const added = sceneway([
      'gates',
      'person',
      'add',
      'EMP-1',
      '--config',
      config,
      '--template',
      template,
      '--id-number-file',
      idFile,
    ]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).not.toMatch(/EMP-1|11010119900307451X|FACE-TEMPLATE/);
    expect(faceRow()).toEqual({
      rows: 1,
      opened: {
        faceTemplate: Buffer.from('FACE-TEMPLATE-EMP-1|'.repeat(20)),
        idNumber: '11010119900307451X',
      },
    });
    const removed = sceneway(['gates', 'person', 'remove', 'EMP-1', '--config', config]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/face data and gate state deleted/);
    expect(faceRow()).toEqual({ rows: 0, opened: undefined });
  }, 120_000);

  it('terminal provision keys a face reader: its person list is sealed under that key', () => {
    const made = sceneway(['terminal', 'provision', 'gate-1', '--config', config]);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const { privateKeyHex } = loadBoxKeys({ dir: join(dir, 'keys'), passphrase: PASSPHRASE });
    const stored = openTerminalKeyStore({ dir: join(dir, 'keys'), boxPrivateKeyHex: privateKeyHex }).keys(
      'gate-1',
    );
    expect(stored.map((k) => [k.version, k.key.length])).toEqual([[1, 32]]);
  }, 120_000);
});
