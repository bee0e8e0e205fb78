// @sceneway/cloud-sync: the public API. Other packages import only from here or from a named entry in
// package.json "exports"; biome refuses deep imports (docs/decisions.md D20).

export {
  dailyTotals,
  parseReconReport,
  RECON_FORMAT,
  type ReconReport,
  reconcileDay,
} from './bank/reconcile.ts';
export { ackEnvelopeSchema, buildAck, verifyAck } from './batch/ack-v1.ts';
export {
  newPiiSalt,
  personalDataFromPlaintext,
  personalDataPlaintext,
  piiDigestOf,
} from './batch/batch-pii.ts';
export { isIntegerJson, parseJsonWith } from './batch/batch-schema.ts';
export { buildBatch, parseBatchEnvelope, verifyBatchSignature } from './batch/batch-v1.ts';
export { buildEnrolmentRequest, type EnrolmentRequest } from './batch/enrolment.ts';
export {
  buildEnrolmentAnswer,
  ENROLMENT_ANSWER_FORMAT,
  type EnrolmentAnswer,
  openEnrolmentAnswer,
} from './batch/enrolment-answer.ts';
export { canonicalBytes } from './batch/jcs.ts';
export { REFUSAL_FORMAT, type Refusal, signRefusal, verifyRefusal } from './batch/refusal-v1.ts';
export { newRequestNonce, requestHeaders } from './batch/request-auth.ts';
export { hasLoneSurrogate, loneSurrogatePath } from './batch/well-formed.ts';
export {
  BLACKLIST_SOURCE_FORMAT,
  type BlacklistSource,
  sealBlacklistSource,
} from './blacklist/blacklist-source.ts';
export {
  BLACKLIST_FORMAT,
  type BlacklistUpdate,
  blacklistEnvelopeSchema,
  blacklistUpdateSchema,
  type SignedBlacklistUpdate,
  signBlacklistUpdate,
} from './blacklist/blacklist-v1.ts';
export {
  accountHolderString,
  cardHolderString,
  HOLDER_KEY_BYTES,
  type HolderDigestScheme,
  type HolderDigests,
  holderKeyForBox,
  keyedHolderDigest,
  keyedHolderDigests,
  legacyHolderDigests,
} from './blacklist/holder-digest.ts';
export {
  type ChainRecord,
  chainHash,
  findChainBreak,
  GENESIS_HASH,
  type JsonValue,
} from './chain/record-chain.ts';
export {
  assertSm2PrivateKey,
  generateSm2KeyPair,
  isSm2PublicKey,
  type Sm2KeyPair,
  type Sm2Options,
  sm2PublicKeyOf,
  sm2Sign,
  sm2Verify,
  warmUpSm2,
} from './crypto/sm2.ts';
export {
  sm2PrivateKeyFromPem,
  sm2PrivateKeyToPem,
  sm2PublicKeyFromPem,
  sm2PublicKeyToPem,
} from './crypto/sm2-keys.ts';
export { sm3Hex } from './crypto/sm3.ts';
export { sm4CbcDecrypt, sm4CbcEncrypt } from './crypto/sm4.ts';
export { Sm4ItemError, sm4CbcDecryptMany, sm4CbcEncryptMany } from './crypto/sm4-many.ts';
export { SyncError } from './sync-error.ts';
