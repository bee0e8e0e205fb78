/**
 * Holder digests are shared with the bank's blacklist tools: defined once, in cloud-sync. A box uses
 * the keyed digests of its own holder key (keys/holder-key.ts, D27); the unkeyed ones only until a box
 * enrolled before D27 has imported its enrolment answer.
 */
export {
  type HolderDigests,
  keyedHolderDigests,
  legacyHolderDigests,
} from '@sceneway/cloud-sync';
