import { buildEnrolmentAnswer, type EnrolmentAnswer } from '../batch/enrolment-answer.ts';
import { BankRefusal } from './refusal.ts';
import type { BankStore } from './store.ts';

/**
 * The bank's signed enrolment answer for a box it has enrolled (docs/decisions.md D27): what the
 * store holds for the box (its site and its enrolled key), and the box's holder key sealed to that key.
 * Used right after an enrolment (POST /v1/enrol, `sceneway-bank enrol`) and to give a box enrolled
 * before D27 its key (`sceneway-bank enrol-answer --box`). The same box id always gets the same key.
 */
export async function enrolmentAnswerFor(
  store: BankStore,
  boxId: string,
  bankPrivateKeyHex: string,
  at: Date,
): Promise<EnrolmentAnswer> {
  const box = await store.getBox(boxId);
  if (!box) throw new BankRefusal(404, 'BANK_BOX_NOT_ENROLLED', `box ${boxId} is not enrolled at this bank`);
  return buildEnrolmentAnswer(box, bankPrivateKeyHex, at);
}
