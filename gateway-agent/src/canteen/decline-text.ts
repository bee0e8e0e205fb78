import type { DeclineReasonName, SaleDecision } from '@sceneway/device-drivers';

/**
 * What the diner reads on the terminal: plain words in the diner's language first (004 §8.2.2 b: clear
 * prompts, no system jargon), a short English gloss after. Each fits the POS display field
 * (64 bytes of UTF-8, canteen-pos MAX_DISPLAY_TEXT_BYTES; a test checks it). Details that help support,
 * such as amounts and limits, go to the log, not to the queue.
 */
export const DECLINE_TEXT: Record<DeclineReasonName, string> = {
  INSUFFICIENT_BALANCE: '余额不足 Insufficient balance',
  INSUFFICIENT_LIMIT: '超出单笔限额 Over per-sale limit',
  DAILY_LIMIT: '超出当日限额 Daily limit reached',
  BLACKLISTED: '卡片不可用 请联系银行 Card refused',
  QR_EXPIRED: '二维码已过期 QR code expired',
  QR_REUSED: '二维码已使用 QR code already used',
  QR_BAD_SIGNATURE: '二维码无效 Invalid QR code',
  OFFLINE_LIMIT_REACHED: '离线额度已满 Offline limit reached',
  FLOOR_LIMIT: '银行离线 超出限额 Bank offline: over limit',
  UNKNOWN_ACCOUNT: '无法识别 Card not recognised',
  VOID_NOT_FOUND: '原交易不存在 Sale not found',
  VOID_NOT_ALLOWED: '不可撤销 Void not allowed',
  DUPLICATE_RECEIPT: '重复单号 Duplicate receipt',
  NO_CREDENTIAL: '请先刷卡 Present your card first',
  STALE_REQUEST: '请重新交易 Please retry the sale',
  RECORD_MAC_INVALID: '记录校验失败 Record not authentic',
  SYSTEM_ERROR: '系统忙 请重试 System busy, retry',
};

export const APPROVED_TEXT = '支付成功 Paid';
export const VOIDED_TEXT = '已撤销 Voided';

export type Declined = Extract<SaleDecision, { outcome: 'declined' }>;

export function decline(reason: DeclineReasonName): Declined {
  return { outcome: 'declined', reason, displayText: DECLINE_TEXT[reason] };
}
