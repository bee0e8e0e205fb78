// @sceneway/cloud-sync/bank: the reference bank ingest service (`sceneway-bank`), its stores and keys.
// The box never imports it; tests and the demo start a bank through it (docs/decisions.md D20).

export { enrolmentAnswerFor } from './bank/enrol-answer.ts';
export { initBankKeys, loadBankPrivateKey } from './bank/keys.ts';
export { reconcileDirectory } from './bank/recon-job.ts';
export { type BankServer, enrolFromRequest, startBankServer } from './bank/server.ts';
