import type { HolderDigests } from '@sceneway/cloud-sync';
import type Database from 'better-sqlite3';
import { GatewayError } from '../gateway-error.ts';
import { type FaceDataKeys, openFaceDataStore } from './face-data-store.ts';
import { openGateState } from './gate-state.ts';
import type { GatesConfig } from './gates-config.ts';
import { personDigestOf } from './gates-rules.ts';

/**
 * The operator's path to a person's face data (`sceneway gates person add|remove`). 004 §9.2.4 asks
 * that face features can be added, changed and deleted ("支持对人脸特征进行新增、修改删除"); §5.3.2 b) 3)
 * forbids storing them beyond need ("禁止违规存储、复制和使用"), so a removal takes the sealed face data
 * and the person's gate state (failures, lockout, presence) together, in one transaction: nothing of
 * the person is left behind when one half fails.
 *
 * Every error names the field it is about, never the value (a person id or an ID number is personal
 * data, and errors are printed and logged).
 */

/** Largest template accepted: its base64 SM4 ciphertext must fit the `persons` sealed field (262,144). */
export const MAX_TEMPLATE_BYTES = 196_000;
/** A PRC resident ID number (GB 11643): 17 digits and a check character. */
const ID_NUMBER = /^\d{17}[\dX]$/;
const PERSON_ID = /^.{1,64}$/su;

export interface EnrolInput {
  personId: string;
  faceTemplate: Buffer;
  idNumber?: string;
}

export function checkEnrolInput(input: EnrolInput): void {
  checkPersonId(input.personId);
  if (input.faceTemplate.length === 0)
    throw usage(
      '--template',
      'the template file is empty',
      'export the face template from the enrolment station',
    );
  if (input.faceTemplate.length > MAX_TEMPLATE_BYTES)
    throw usage(
      '--template',
      `the template is ${input.faceTemplate.length} bytes, more than ${MAX_TEMPLATE_BYTES}`,
      'a reader template is a feature vector of a few KiB, not an image',
    );
  if (input.idNumber !== undefined && !ID_NUMBER.test(input.idNumber))
    throw usage(
      '--id-number-file',
      'expected an 18-character resident ID number (17 digits, then a digit or X)',
    );
}

export function checkPersonId(personId: string): void {
  if (!PERSON_ID.test(personId) || personId.trim() !== personId)
    throw usage(
      '<personId>',
      'expected 1-64 characters without surrounding spaces, as the readers report it',
    );
}

/** Seals the person's face data (a second enrolment replaces the first). The person must be in the directory. */
export function enrolPerson(
  db: Database.Database,
  keys: FaceDataKeys,
  digests: HolderDigests,
  config: GatesConfig,
  input: EnrolInput,
  at: number,
): void {
  checkEnrolInput(input);
  if (!config.persons.some((p) => p.id === input.personId))
    throw usage(
      '<personId>',
      'not in scenarios.gates.persons',
      'add the person with their group to scenarios.gates.persons first (the box decides on the group)',
    );
  openFaceDataStore(db, keys).enrol(
    personDigestOf(digests, input.personId),
    {
      faceTemplate: input.faceTemplate,
      ...(input.idNumber !== undefined ? { idNumber: input.idNumber } : {}),
    },
    at,
  );
}

/** Deletes the person's sealed face data and gate state; says what there was. */
export function removePerson(
  db: Database.Database,
  keys: FaceDataKeys,
  digests: HolderDigests,
  personId: string,
): { faceData: boolean } {
  checkPersonId(personId);
  const person = personDigestOf(digests, personId);
  const faceData = openFaceDataStore(db, keys);
  const state = openGateState(db);
  return db.transaction(() => {
    const had = faceData.remove(person);
    state.forgetPerson(person);
    return { faceData: had };
  })();
}

const usage = (field: string, message: string, hint?: string) =>
  new GatewayError('CLI_USAGE', `${field}: ${message}`, hint);
