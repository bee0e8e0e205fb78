import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { faceDataKey, openFaceDataStore } from './face-data-store.ts';
import { personDigestOf } from './gates-rules.ts';
import { enrolPerson, MAX_TEMPLATE_BYTES, removePerson } from './person-enrolment.ts';
import { DIGESTS, face, openGates } from './test-support.ts';

const KEYS = faceDataKey('11'.repeat(32));
const TEMPLATE = Buffer.from('TEMPLATE-OF-EMP-1-'.repeat(30));
const ID_NUMBER = '11010119900307451X';
const digest = (id: string) => personDigestOf(DIGESTS, id);

const rowsOf = (db: import('better-sqlite3').Database, person: string) => ({
  faceData: db.prepare('SELECT count(*) FROM gate_face_data WHERE person = ?').pluck().get(person),
  failures: db
    .prepare("SELECT count(*) FROM gate_failures WHERE scope = 'person' AND subject = ?")
    .pluck()
    .get(person),
  presence: db.prepare('SELECT count(*) FROM gate_presence WHERE person = ?').pluck().get(person),
});

describe('enrolling a person (sceneway gates person add)', () => {
  it('seals the template and ID number under the person digest: they open to what was enrolled, never in clear', () => {
    const g = openGates();
    const db = g.ledger.db;
    enrolPerson(
      db,
      KEYS,
      DIGESTS,
      g.config,
      { personId: 'EMP-1', faceTemplate: TEMPLATE, idNumber: ID_NUMBER },
      1,
    );
    expect(openFaceDataStore(db, KEYS).open(digest('EMP-1'))).toEqual({
      faceTemplate: TEMPLATE,
      idNumber: ID_NUMBER,
    });
    db.pragma('wal_checkpoint(TRUNCATE)');
    const file = readFileSync(db.name);
    expect(file.includes(Buffer.from('TEMPLATE-OF-EMP-1-'))).toBe(false);
    expect(file.includes(Buffer.from(ID_NUMBER))).toBe(false);
    expect(file.includes(Buffer.from('EMP-1'))).toBe(false);
  });

  it('refuses bad input naming the field, never the value', () => {
    const g = openGates();
    const enrol = (input: Partial<Parameters<typeof enrolPerson>[4]>) => () =>
      enrolPerson(
        g.ledger.db,
        KEYS,
        DIGESTS,
        g.config,
        { personId: 'EMP-1', faceTemplate: TEMPLATE, ...input },
        1,
      );
    expect(enrol({ personId: 'NOBODY-7' })).toThrow(/^<personId>: not in scenarios\.gates\.persons$/);
    expect(enrol({ personId: '' })).toThrow(/^<personId>: expected 1-64 characters/);
    expect(enrol({ personId: ' EMP-1' })).toThrow(/^<personId>:/);
    expect(enrol({ faceTemplate: Buffer.alloc(0) })).toThrow(/^--template: the template file is empty$/);
    expect(enrol({ faceTemplate: Buffer.alloc(MAX_TEMPLATE_BYTES + 1) })).toThrow(
      /^--template: the template is/,
    );
    expect(enrol({ idNumber: '1101011990030745' })).toThrow(/^--id-number-file: expected an 18-character/);
    for (const f of [enrol({ personId: 'NOBODY-7' }), enrol({ idNumber: '12345' })]) {
      try {
        f();
      } catch (err) {
        expect(String(err)).not.toMatch(/NOBODY-7|12345/);
        expect((err as { code?: string }).code).toBe('CLI_USAGE');
      }
    }
    expect(openFaceDataStore(g.ledger.db, KEYS).count()).toBe(0);
    // The largest template accepted still fits the `persons` sealed field once SM4-padded and base64'd.
    expect(Math.ceil((MAX_TEMPLATE_BYTES + 16) / 3) * 4).toBeLessThanOrEqual(262_144);
  });
});

describe('removing a person (sceneway gates person remove)', () => {
  it("deletes the sealed face data and the person's lockout and presence, and nobody else's", async () => {
    let g = openGates();
    const db = g.ledger.db;
    enrolPerson(db, KEYS, DIGESTS, g.config, { personId: 'EMP-1', faceTemplate: TEMPLATE }, 1);
    enrolPerson(db, KEYS, DIGESTS, g.config, { personId: 'EMP-2', faceTemplate: TEMPLATE }, 1);
    await g.rules.decide('in-1', face('EMP-1'));
    await g.rules.decide('in-1', face('EMP-2'));
    for (let i = 0; i < 5; i++) await g.rules.decide('lab-1', face('EMP-1', { liveness: 'fail' }));
    expect(await g.rules.decide('lab-1', face('EMP-1'))).toMatchObject({ reason: 'LOCKED_OUT' });
    expect(rowsOf(db, digest('EMP-1'))).toEqual({ faceData: 1, failures: 1, presence: 1 });

    expect(removePerson(db, KEYS, DIGESTS, 'EMP-1')).toEqual({ faceData: true });

    expect(rowsOf(db, digest('EMP-1'))).toEqual({ faceData: 0, failures: 0, presence: 0 });
    expect(rowsOf(db, digest('EMP-2'))).toEqual({ faceData: 1, failures: 0, presence: 1 });
    expect(removePerson(db, KEYS, DIGESTS, 'EMP-1')).toEqual({ faceData: false });
    // The agent restarted afterwards holds no lockout for the removed person (it reads gate state at start).
    g = await g.reopen();
    g.clock.advance(60_000);
    expect(await g.rules.decide('in-1', face('EMP-1', { eventId: 'after-removal' }))).not.toMatchObject({
      reason: 'LOCKED_OUT',
    });
  });
});
