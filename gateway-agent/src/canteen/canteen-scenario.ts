import { defineScenario } from '../scenarios/scenario-api.ts';
import { startBlacklistPoller } from './blacklist-poller.ts';
import { canteenConfigSchema } from './canteen-config.ts';
import { createCanteenRules } from './canteen-rules.ts';
import { createReaderBindings } from './reader-bindings.ts';

/**
 * The canteen as a scenario: sales and voids decided offline (canteen-rules.ts), cards from readers bound
 * to tills, the bank's blacklist fetched and applied. Drivers reach it only through events.
 */
export const canteenScenario = defineScenario({
  id: 'canteen',
  configSchema: canteenConfigSchema,
  handles: [
    'SaleRequested',
    'VoidRequested',
    'SaleStatusAsked',
    'CredentialPresented',
    'BlacklistVersionAsked',
  ],
  crossCheck(config, terminals) {
    return config.readerBindings.flatMap((binding, i) => {
      const at = `scenarios.canteen.readerBindings[${i}]`;
      const issues = [];
      if (!terminals.has(binding.reader))
        issues.push({ path: `${at}.reader`, message: `no terminal "${binding.reader}" in drivers[]` });
      if (!terminals.has(binding.till))
        issues.push({ path: `${at}.till`, message: `no terminal "${binding.till}" in drivers[]` });
      if (config.readerBindings.findIndex((b) => b.reader === binding.reader) !== i)
        issues.push({ path: `${at}.reader`, message: `reader "${binding.reader}" is bound twice` });
      return issues;
    });
  },
  create(ctx, config) {
    const logger = ctx.logger;
    const bindings = createReaderBindings({
      bindings: config.readerBindings,
      now: () => ctx.clock.now(),
      logger,
    });
    const rules = createCanteenRules({
      ledger: ctx.ledger,
      limits: config.limits,
      bankPublicKeyHex: ctx.bank.publicKeyHex,
      bankUserId: ctx.bank.userId,
      audience: { siteId: ctx.site.id, boxId: ctx.bank.boxId },
      boxId: ctx.bank.boxId,
      holderDigests: ctx.holderDigests,
      clock: ctx.clock,
      isBankReachable: ctx.isBankReachable,
      freeDiskMb: ctx.freeDiskMb,
      alerts: {
        raise: (code: string, message: string, hint?: string) =>
          ctx.alerts.raise({ code, message, ...(hint ? { hint } : {}) }),
        clear: (code: string) => ctx.alerts.clear(code),
      },
      takeBoundCredential: bindings.take,
      maxRequestAgeSeconds: config.maxRequestAgeSeconds,
      logger,
    });
    let poller: ReturnType<typeof startBlacklistPoller> | null = null;
    return {
      handlers: {
        SaleRequested: (e) => rules.decideSale(e.terminalId, e.sale),
        VoidRequested: (e) => rules.decideVoid(e.terminalId, e.request),
        SaleStatusAsked: (e) => rules.saleStatus(e.terminalId, e.receiptNo),
        CredentialPresented: async (e) => bindings.present(e.terminalId, e.credential),
        BlacklistVersionAsked: async () => ({ version: rules.blacklistVersion() }),
      },
      start() {
        if (ctx.holderDigests.scheme !== 'hmac-sm3') {
          // A box enrolled before D27: it goes on with the unkeyed digests and the list it holds, and
          // says so until its enrolment answer is imported (keyed lists would match none of its cards).
          ctx.alerts.raise({
            code: 'CANTEEN_HOLDER_KEY_MISSING',
            message:
              'no holder key: card digests are unkeyed (reversible from the ledger file) and the blacklist is not updated',
            hint: 'ask the bank for `sceneway-bank enrol-answer --box <id>`, then `sceneway keys enrolment-answer --in FILE` and restart',
          });
          return;
        }
        if (ctx.bank.blacklistPollSeconds <= 0 || poller) return;
        poller = startBlacklistPoller({
          client: ctx.bank.client,
          boxId: ctx.bank.boxId,
          boxPrivateKeyHex: ctx.bank.boxPrivateKeyHex,
          userId: ctx.bank.userId,
          intervalMs: ctx.bank.blacklistPollSeconds * 1000,
          clock: ctx.clock,
          logger,
          alerts: ctx.alerts,
          currentVersion: () => rules.blacklistVersion(),
          apply: (signed) => rules.applyBlacklist(signed),
        });
      },
      stop() {
        poller?.stop();
        poller = null;
      },
    };
  },
});
