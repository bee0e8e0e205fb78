import { createHmac, timingSafeEqual } from 'node:crypto';
import { sm4CbcDecrypt, sm4CbcEncrypt } from '@sceneway/cloud-sync';
import type Database from 'better-sqlite3';

/**
 * Face templates and ID numbers of enrolled persons, the most sensitive personal data the box holds
 * (issue #13 item 8; 004 §5.3.2 b) 3) and 7): kept confidential and intact at rest). Each is SM4-CBC
 * sealed, then MACed (HMAC-SM3 over person, IV and ciphertext: encrypt-then-MAC, so a changed byte or a
 * row moved to another person is refused before decryption), under two keys derived from the box's own
 * SM2 private key (HMAC-SM3 with fixed labels): the ledger file alone opens nothing. Rows are keyed by
 * the person's keyed digest, never the clear id.
 * Nothing here logs: neither the values nor the person.
 *
 * A template is kept only as long as configured (faceDataRetentionDays after its last enrolment) and
 * is deleted with the person's record (`remove`).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS gate_face_data (
  person TEXT PRIMARY KEY, template_iv BLOB NOT NULL, template BLOB NOT NULL,
  id_iv BLOB, id_number BLOB, enrolled_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gate_face_list (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL);
INSERT OR IGNORE INTO gate_face_list (one, version) VALUES (1, 1);
`;

export interface FaceData {
  faceTemplate: Buffer;
  idNumber?: string;
}

export interface FaceDataStore {
  enrol(person: string, data: FaceData, at: number): void;
  /** Opens the sealed data (for a person list sync to a reader); undefined when not enrolled. */
  open(person: string): FaceData | undefined;
  /** Deletes the person's face data; true when there was some. */
  remove(person: string): boolean;
  /** Deletes every template enrolled before `before` (retention); returns how many. */
  prune(before: number): number;
  count(): number;
  /** The person list version readers are synced to: 1, bumped by every enrol, remove and prune that changed a row. */
  version(): number;
}

export interface FaceDataKeys {
  /** SM4 key: 16 bytes. */
  seal: Buffer;
  /** HMAC-SM3 key: 32 bytes. */
  mac: Buffer;
}

/** The keys of face data: HMAC-SM3(box private key, label), one label per use. */
export function faceDataKey(boxPrivateKeyHex: string): FaceDataKeys {
  const derive = (label: string) =>
    createHmac('sm3', Buffer.from(boxPrivateKeyHex, 'hex')).update(label).digest();
  return {
    seal: derive('sceneway.gates.face-data.v1').subarray(0, 16),
    mac: derive('sceneway.gates.face-data-mac.v1'),
  };
}

export function openFaceDataStore(db: Database.Database, keys: FaceDataKeys): FaceDataStore {
  db.exec(SCHEMA);
  const put = db.prepare<[string, Buffer, Buffer, Buffer | null, Buffer | null, number]>(
    `INSERT INTO gate_face_data (person, template_iv, template, id_iv, id_number, enrolled_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (person) DO UPDATE SET template_iv = excluded.template_iv, template = excluded.template,
       id_iv = excluded.id_iv, id_number = excluded.id_number, enrolled_at = excluded.enrolled_at`,
  );
  const get = db.prepare<
    [string],
    { template_iv: Buffer; template: Buffer; id_iv: Buffer | null; id_number: Buffer | null }
  >('SELECT template_iv, template, id_iv, id_number FROM gate_face_data WHERE person = ?');
  const del = db.prepare<[string]>('DELETE FROM gate_face_data WHERE person = ?');
  const pruneOld = db.prepare<[number]>('DELETE FROM gate_face_data WHERE enrolled_at < ?');
  const countAll = db.prepare<[], number>('SELECT count(*) FROM gate_face_data').pluck();
  const getVersion = db.prepare<[], number>('SELECT version FROM gate_face_list').pluck();
  const bump = db.prepare('UPDATE gate_face_list SET version = version + 1');
  /** The change and the version bump commit together: a reader is never told an old list is new. */
  const changing = <A extends unknown[]>(change: (...args: A) => number) =>
    db.transaction((...args: A) => {
      const changed = change(...args);
      if (changed > 0) bump.run();
      return changed;
    });
  const macOf = (person: string, iv: Buffer, ciphertext: Buffer) =>
    createHmac('sm3', keys.mac).update(`${person}\n`).update(iv).update(ciphertext).digest();
  // Stored as ciphertext ‖ 32-byte MAC, so the table keeps one column per field.
  const seal = (person: string, value: Buffer) => {
    const { iv, ciphertext } = sm4CbcEncrypt(keys.seal, value);
    return { iv, ciphertext: Buffer.concat([ciphertext, macOf(person, iv, ciphertext)]) };
  };
  const unseal = (person: string, iv: Buffer, stored: Buffer): Buffer => {
    const ciphertext = stored.subarray(0, stored.length - 32);
    const mac = stored.subarray(stored.length - 32);
    const expected = macOf(person, iv, ciphertext);
    if (mac.length !== 32 || !timingSafeEqual(mac, expected))
      throw new Error("sealed face data fails its MAC: altered, or another person's");
    return sm4CbcDecrypt(keys.seal, iv, ciphertext);
  };
  const enrolRow = changing(
    (...row: [string, Buffer, Buffer, Buffer | null, Buffer | null, number]) => put.run(...row).changes,
  );
  const removeRow = changing((person: string) => del.run(person).changes);
  const pruneRows = changing((before: number) => pruneOld.run(before).changes);
  return {
    enrol: (person, data, at) => {
      const template = seal(person, data.faceTemplate);
      const id = data.idNumber === undefined ? null : seal(person, Buffer.from(data.idNumber, 'utf8'));
      enrolRow(person, template.iv, template.ciphertext, id?.iv ?? null, id?.ciphertext ?? null, at);
    },
    open(person) {
      const row = get.get(person);
      if (!row) return undefined;
      const faceTemplate = unseal(person, row.template_iv, row.template);
      if (!row.id_iv || !row.id_number) return { faceTemplate };
      return { faceTemplate, idNumber: unseal(person, row.id_iv, row.id_number).toString('utf8') };
    },
    remove: (person) => removeRow(person) > 0,
    prune: (before) => pruneRows(before),
    count: () => countAll.get() ?? 0,
    version: () => getVersion.get() ?? 1,
  };
}
