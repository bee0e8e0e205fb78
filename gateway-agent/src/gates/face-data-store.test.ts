import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openTempLedger } from '../ledger/temp-ledger.ts';
import { faceDataKey, openFaceDataStore } from './face-data-store.ts';

const KEY = faceDataKey('11'.repeat(32));
const TEMPLATE = Buffer.from('FACE-TEMPLATE-'.repeat(40));
const ID_NUMBER = '110101199003074512';

describe('face data at rest', () => {
  it('is SM4-sealed: neither the template nor the ID number is in the database file', async () => {
    const ledger = openTempLedger();
    const store = openFaceDataStore(ledger.db, KEY);
    store.enrol('digest-a', { faceTemplate: TEMPLATE, idNumber: ID_NUMBER }, 1000);
    expect(store.open('digest-a')).toEqual({ faceTemplate: TEMPLATE, idNumber: ID_NUMBER });
    ledger.db.pragma('wal_checkpoint(TRUNCATE)');
    const file = readFileSync(ledger.db.name);
    expect(file.includes(Buffer.from('FACE-TEMPLATE-'))).toBe(false);
    expect(file.includes(Buffer.from(ID_NUMBER))).toBe(false);
  });

  it('does not open under another key, nor as another person', () => {
    const ledger = openTempLedger();
    const store = openFaceDataStore(ledger.db, KEY);
    store.enrol('digest-a', { faceTemplate: TEMPLATE }, 1000);
    expect(() => openFaceDataStore(ledger.db, faceDataKey('22'.repeat(32))).open('digest-a')).toThrow();
    ledger.db.prepare("UPDATE gate_face_data SET person = 'digest-b' WHERE person = 'digest-a'").run();
    expect(() => store.open('digest-b')).toThrow(/fails its MAC/);
  });

  it('refuses a template with one byte changed (intact at rest, 004 §5.3.2 b) 7))', () => {
    const ledger = openTempLedger();
    const store = openFaceDataStore(ledger.db, KEY);
    store.enrol('digest-a', { faceTemplate: TEMPLATE }, 1000);
    const row = ledger.db.prepare('SELECT template FROM gate_face_data').get() as { template: Buffer };
    const changed = Buffer.from(row.template);
    changed[3] = (changed[3] ?? 0) ^ 0x01;
    ledger.db.prepare('UPDATE gate_face_data SET template = ?').run(changed);
    expect(() => store.open('digest-a')).toThrow(/fails its MAC/);
  });

  it('is deleted with the person, and after the retention period', () => {
    const ledger = openTempLedger();
    const store = openFaceDataStore(ledger.db, KEY);
    store.enrol('digest-a', { faceTemplate: TEMPLATE }, 1000);
    store.enrol('digest-b', { faceTemplate: TEMPLATE }, 5000);
    expect(store.remove('digest-a')).toBe(true);
    expect(store.open('digest-a')).toBeUndefined();
    expect(store.prune(5000)).toBe(0);
    expect(store.prune(5001)).toBe(1);
    expect(store.count()).toBe(0);
  });
});
