import type { BankRefusalCode } from '@sceneway/core';

/**
 * A refusal the bank sends back: HTTP status + stable code. Permanent refusals (4xx except 429)
 * mean "resending the same bytes will never work" (the box must alert, not loop); transient ones
 * (429, 5xx) mean "retry later with backoff". See docs/bank-ingest.md.
 */
export class BankRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: BankRefusalCode,
    message: string,
    readonly headers: Record<string, string> = {},
    /**
     * Facts the box needs to act on the refusal, sent beside code and message. `bankHeadSeq`: the last
     * seq the bank holds for this box, on the order refusals, so a box restored from an older copy
     * learns it is behind (LEDGER_BEHIND_BANK) instead of re-using sequence numbers.
     */
    readonly detail: { bankHeadSeq?: number } = {},
  ) {
    super(message);
  }
}
