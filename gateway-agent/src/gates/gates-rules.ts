import type { HolderDigests } from '@sceneway/cloud-sync';
import type { AccessDecision, FaceRecognition } from '@sceneway/device-drivers';
import type { Clock } from '../clock.ts';
import type { SqliteLedger } from '../ledger/ledger.ts';
import type { LedgerRecord } from '../ledger/ledger-api.ts';
import type { Logger } from '../logger.ts';
import { type AccessOutcome, decideAccess, type ReaderPlace } from './decide-access.ts';
import { openGateState } from './gate-state.ts';
import type { GatesConfig, PersonGroup } from './gates-config.ts';
import { createLocalTime } from './local-time.ts';

export interface GatesRules {
  decide(readerId: string, recognition: FaceRecognition): Promise<AccessDecision>;
  /** The person's gate state goes with their record (issue #13 item 8). */
  forgetPerson(personId: string): void;
}

/**
 * How the box names a person it keeps: HMAC-SM3 under the box's holder key (D27), namespaced so that a
 * person id never collides with a canteen QR account of the same spelling. The bank, which derives the
 * same key, can name the person; a stolen ledger file cannot.
 */
export const personDigestOf = (digests: HolderDigests, personId: string): string =>
  digests.account(`gate-person:${personId}`);

/**
 * The gates scenario's decisions: one per recognition event, durable before the door is told.
 *
 * Every event, open or deny, is an `attendance` record in the ledger (chained, synced to the bank like
 * a sale), keyed `attendance:<reader>:<eventId>`: a reader's replay after a reconnect, a duplicate
 * delivery, or the same event after an agent restart returns the first decision and records nothing
 * new. The record names the person by keyed digest only; the snapshot digest is sealed personal data.
 */
export function createGatesRules(options: {
  ledger: SqliteLedger;
  config: GatesConfig;
  holderDigests: HolderDigests;
  clock: Clock;
  logger: Logger;
}): GatesRules {
  const { ledger, config, clock, logger } = options;
  const state = openGateState(ledger.db);
  const localTime = createLocalTime(config.timezone);
  const antiPassback = new Map(config.zones.map((z) => [z.id, z.antiPassback]));
  const places = new Map<string, ReaderPlace>(
    config.readers.map((r) => [
      r.reader,
      { zone: r.zone, direction: r.direction, antiPassback: antiPassback.get(r.zone) ?? true },
    ]),
  );
  const groups = new Map(config.groups.map((g) => [g.id, g]));
  const digest = (personId: string) => personDigestOf(options.holderDigests, personId);
  const groupOf = new Map<string, PersonGroup | undefined>(
    config.persons.map((p) => [digest(p.id), groups.get(p.group)]),
  );
  const inFlight = new Map<string, Promise<AccessDecision>>();

  async function decideOnce(key: string, readerId: string, r: FaceRecognition): Promise<AccessDecision> {
    const stored = ledger.findByIdempotencyKey(key);
    if (stored) {
      await ledger.durable();
      return decisionOf(stored);
    }
    const person = r.personId === null ? null : digest(r.personId);
    const now = clock.now();
    const place = places.get(readerId);
    const outcome: AccessOutcome = decideAccess(
      {
        readerId,
        place,
        recognition: r,
        person,
        group: person ? groupOf.get(person) : undefined,
        now,
        local: localTime(now),
      },
      state,
      config,
    );
    const persist = state.apply(outcome.change);
    const { decision } = outcome;
    try {
      const { record, duplicate } = await ledger.append({
        kind: 'attendance',
        terminalId: readerId,
        amountFen: null,
        idempotencyKey: key,
        payload: {
          eventId: r.eventId,
          person,
          zone: place?.zone ?? null,
          direction: place?.direction ?? null,
          outcome: decision.outcome,
          ...(decision.outcome === 'deny' ? { reason: decision.reason } : {}),
          ...(decision.displayText ? { displayText: decision.displayText } : {}),
          // Per mille: the chain holds integers only (a batch refuses floats).
          scorePermille: Math.round(r.score * 1000),
          liveness: r.liveness,
          readerTime: r.at,
        },
        ...(r.snapshotDigest ? { pii: { faceImageDigest: r.snapshotDigest } } : {}),
        withinCommit: persist,
      });
      return duplicate ? decisionOf(record) : decision;
    } catch (err) {
      state.reload(); // the commit did not happen: memory must not keep what SQLite does not
      throw err;
    }
  }

  return {
    decide(readerId, recognition) {
      const key = `attendance:${readerId}:${recognition.eventId}`;
      const running = inFlight.get(key);
      if (running) return running;
      const deciding = decideOnce(key, readerId, recognition).finally(() => inFlight.delete(key));
      inFlight.set(key, deciding);
      return deciding.then((d) => {
        logger.debug(
          {
            readerId,
            eventId: recognition.eventId,
            outcome: d.outcome,
            reason: d.outcome === 'deny' ? d.reason : undefined,
          },
          'gate decision',
        );
        return d;
      });
    },
    forgetPerson(personId) {
      state.forgetPerson(digest(personId));
    },
  };
}

function decisionOf(record: LedgerRecord): AccessDecision {
  const p = record.payload as { outcome: 'open' | 'deny'; reason?: string; displayText?: string };
  const text = p.displayText ? { displayText: p.displayText } : {};
  return p.outcome === 'open'
    ? { outcome: 'open', ...text }
    : { outcome: 'deny', reason: p.reason ?? 'SYSTEM_ERROR', ...text };
}
