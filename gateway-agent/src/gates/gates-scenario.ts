import { defineScenario } from '../scenarios/scenario-api.ts';
import { faceDataKey, openFaceDataStore } from './face-data-store.ts';
import { gatesConfigSchema } from './gates-config.ts';
import { createGatesRules, personDigestOf } from './gates-rules.ts';
import { personListOf } from './person-list.ts';

const HOUR_MS = 3_600_000;

/**
 * Campus gates as a scenario: face/attendance readers' recognitions decided by access windows,
 * anti-passback and lockouts (gates-rules.ts), each one an attendance record in the ledger. Drivers
 * reach it only through FaceRecognized events.
 */
export const gatesScenario = defineScenario({
  id: 'gates',
  configSchema: gatesConfigSchema,
  handles: ['FaceRecognized', 'PersonListAsked'],
  crossCheck(config, terminals) {
    const zones = new Set(config.zones.map((z) => z.id));
    const groups = new Set(config.groups.map((g) => g.id));
    const issues: Array<{ path: string; message: string }> = [];
    config.readers.forEach((r, i) => {
      const at = `scenarios.gates.readers[${i}]`;
      if (!terminals.has(r.reader))
        issues.push({ path: `${at}.reader`, message: `no terminal "${r.reader}" in drivers[]` });
      if (!zones.has(r.zone))
        issues.push({ path: `${at}.zone`, message: `no zone "${r.zone}" in scenarios.gates.zones` });
      if (config.readers.findIndex((o) => o.reader === r.reader) !== i)
        issues.push({ path: `${at}.reader`, message: `reader "${r.reader}" is placed twice` });
    });
    config.groups.forEach((g, i) => {
      (g.zones ?? []).forEach((z, j) => {
        if (!zones.has(z))
          issues.push({
            path: `scenarios.gates.groups[${i}].zones[${j}]`,
            message: `no zone "${z}" in scenarios.gates.zones`,
          });
      });
    });
    config.persons.forEach((p, i) => {
      // The message names the group, never the person id (personal data in a config error is still a leak).
      if (!groups.has(p.group))
        issues.push({
          path: `scenarios.gates.persons[${i}].group`,
          message: `no group "${p.group}" in scenarios.gates.groups`,
        });
    });
    return issues;
  },
  create(ctx, config) {
    const rules = createGatesRules({
      ledger: ctx.ledger,
      config,
      holderDigests: ctx.holderDigests,
      clock: ctx.clock,
      logger: ctx.logger,
    });
    const faceData = openFaceDataStore(ctx.ledger.db, faceDataKey(ctx.bank.boxPrivateKeyHex));
    let retention: NodeJS.Timeout | undefined;
    const prune = () => {
      const pruned = faceData.prune(ctx.clock.now() - config.faceDataRetentionDays * 24 * HOUR_MS);
      if (pruned > 0) ctx.logger.info({ pruned }, 'face data past retention deleted');
    };
    return {
      handlers: {
        FaceRecognized: (e) => rules.decide(e.terminalId, e.recognition),
        PersonListAsked: async (e) =>
          personListOf(
            config,
            e.terminalId,
            faceData,
            (id) => personDigestOf(ctx.holderDigests, id),
            ctx.logger,
          ),
      },
      start() {
        if (ctx.holderDigests.scheme !== 'hmac-sm3') {
          // Person ids are short and guessable: an unkeyed digest of one is reversed by enumeration.
          ctx.alerts.raise({
            code: 'GATES_HOLDER_KEY_MISSING',
            message: 'no holder key: gate person digests are unkeyed (reversible from the ledger file)',
            hint: 'import the bank enrolment answer (`sceneway keys enrolment-answer --in FILE`) and restart',
          });
        }
        prune();
        retention ??= setInterval(prune, HOUR_MS).unref();
      },
      stop() {
        clearInterval(retention);
        retention = undefined;
      },
    };
  },
});
