/** Holder digests are shared with the bank's blacklist tools: defined once, in cloud-sync. */
export { accountHolderDigest, cardHolderDigest } from '@sceneway/cloud-sync';
