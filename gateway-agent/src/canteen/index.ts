/** The canteen scenario's public surface for the agent (agent.ts) and the demo. */

export {
  BLACKLIST_FORMAT,
  type BlacklistUpdate,
  type SignedBlacklistUpdate,
  signBlacklistUpdate,
} from './blacklist.ts';
export {
  type BlacklistState,
  type CanteenAlerts,
  type CanteenRules,
  type CanteenRulesOptions,
  createCanteenRules,
} from './canteen-rules.ts';
export { BACKLOG_ALERT, DISK_ALERT } from './full-buffer.ts';
export { type HolderDigests, keyedHolderDigests, legacyHolderDigests } from './holder-digest.ts';
export { issueQrToken, type QrClaims, verifyQrToken } from './qr-token.ts';
