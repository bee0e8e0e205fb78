import { randomUUID } from 'node:crypto';
import type { JsonValue } from '@sceneway/cloud-sync';
import { maskTail } from '@sceneway/core';
import type { AccessDecision, PlateSighting } from '@sceneway/device-drivers';
import type { HolderDigests } from '../canteen/holder-digest.ts';
import type { Clock } from '../clock.ts';
import type { SqliteLedger } from '../ledger/ledger.ts';
import type { Logger } from '../logger.ts';
import { parkingFeeFen } from './fee.ts';
import type { ParkingConfig } from './parking-config.ts';
import { type OpenSession, openParkingStore, type ReviewReason } from './parking-store.ts';
import { normalisePlate, oneCharacterApart } from './plate-text.ts';
import { createSightingWindow } from './sighting-window.ts';

/**
 * The parking lot's decisions. Entry: a blacklisted plate is refused; any other opens a session
 * (whitelisted plates are marked free) and the barrier. Exit: the session of the plate is closed and
 * its fee computed; a paid exit is a `sale` record on the money path (synced to the bank like a canteen
 * sale), a free one a `plate-sighting`. An exit whose plate has no session goes to the manual-review
 * queue (alert PARKING_MANUAL_REVIEW, on /api/status), and so does a low-confidence exit read one
 * character away from a car inside: the barrier stays closed and an attendant decides. Every barrier
 * answer is given only after the record behind it is durable (DESIGN invariant 1).
 */
export interface ParkingRules {
  decide(terminalId: string, sighting: PlateSighting): Promise<AccessDecision>;
  /** Stores a sighting's picture sealed, by its SM3 digest, linked to the sighting's event id. */
  attachSnapshot(eventId: string, jpeg: Uint8Array): string;
  snapshotOf(eventId: string): Buffer | undefined;
  pendingReviews(): ReturnType<ReturnType<typeof openParkingStore>['pendingReviews']>;
  snapshot(digest: string): Buffer | undefined;
}

const DAY_MS = 86_400_000;
const OPEN: AccessDecision = { outcome: 'open' };
const deny = (reason: string, displayText: string): AccessDecision => ({
  outcome: 'deny',
  reason,
  displayText,
});

export function createParkingRules(options: {
  ledger: SqliteLedger;
  config: ParkingConfig;
  holderDigests: HolderDigests;
  clock: Clock;
  logger: Logger;
  alerts: { raise(code: string, message: string, hint?: string): void };
}): ParkingRules {
  const { ledger, config, clock, logger } = options;
  const store = openParkingStore(ledger.db, ledger.dataKey);
  // Keyed (HMAC-SM3 under the holder key, D27) so the ledger and the lists cannot be reversed by
  // hashing every plate of a province.
  const digestOf = (plate: string) => options.holderDigests.account(`plate:${plate}`);
  const whitelist = new Map(config.whitelist.map((w) => [digestOf(normalisePlate(w.plate)), w]));
  const blacklist = new Set(config.blacklist.map((b) => digestOf(normalisePlate(b.plate))));
  const window = createSightingWindow({
    windowMs: config.dedupeWindowSeconds * 1000,
    misreadMaxConfidence: config.misreadMaxConfidence,
  });
  const localDay = new Intl.DateTimeFormat('en-CA', { timeZone: config.timezone });

  const passOf = (digest: string, now: number): 'staff' | 'monthly' | null => {
    const entry = whitelist.get(digest);
    if (!entry) return null;
    if (entry.kind === 'monthly' && entry.validUntil && localDay.format(now) > entry.validUntil) return null;
    return entry.kind;
  };

  const raiseReviewAlert = () => {
    const pending = store.pendingReviews().length;
    options.alerts.raise(
      'PARKING_MANUAL_REVIEW',
      `${pending} parking passage(s) wait for manual review (exit without entry, likely misread, or entry while inside)`,
      'An attendant checks the car at the lane and its snapshot; the queue is in the parking_review table.',
    );
  };

  /** Appends the passage's record and the store changes with it; answers only once it is durable. */
  async function record(input: {
    kind: 'sale' | 'plate-sighting';
    terminalId: string;
    sighting: PlateSighting;
    plate: string;
    amountFen: number | null;
    payload: { [key: string]: JsonValue };
    idempotencyKey: string;
    decision: AccessDecision;
    apply?: () => void;
  }): Promise<AccessDecision> {
    const now = clock.now();
    const { duplicate } = await ledger.append({
      kind: input.kind,
      terminalId: input.terminalId,
      amountFen: input.amountFen,
      payload: { scenario: 'parking', eventId: input.sighting.eventId, ...input.payload },
      pii: { plateNumber: input.plate },
      idempotencyKey: input.idempotencyKey,
      withinCommit: () => {
        input.apply?.();
        store.cacheDecision(input.sighting.eventId, input.decision, now);
      },
    });
    if (duplicate) return store.cachedDecision(input.sighting.eventId) ?? input.decision;
    return input.decision;
  }

  async function review(
    terminalId: string,
    sighting: PlateSighting,
    plate: string,
    digest: string,
    reason: ReviewReason,
    extra: { [key: string]: JsonValue } = {},
  ): Promise<AccessDecision> {
    const decision = deny('MANUAL_REVIEW', 'Please wait: an attendant will help you');
    const result = await record({
      kind: 'plate-sighting',
      terminalId,
      sighting,
      plate,
      amountFen: null,
      payload: { lane: sighting.lane, plateDigest: digest, review: reason, ...extra },
      idempotencyKey: `parking:${sighting.eventId}`,
      decision,
      apply: () =>
        store.addReview(
          { eventId: sighting.eventId, at: clock.now(), terminalId, reason, plateDigest: digest },
          plate,
        ),
    });
    logger.warn({ terminalId, plate: maskTail(plate), reason }, 'parking: passage queued for manual review');
    raiseReviewAlert();
    return result;
  }

  async function entry(
    terminalId: string,
    s: PlateSighting,
    plate: string,
    digest: string,
  ): Promise<AccessDecision> {
    const now = clock.now();
    if (blacklist.has(digest)) {
      logger.info({ terminalId, plate: maskTail(plate) }, 'parking: blacklisted plate refused at entry');
      return record({
        kind: 'plate-sighting',
        terminalId,
        sighting: s,
        plate,
        amountFen: null,
        payload: { lane: 'entry', plateDigest: digest, refused: 'BLACKLISTED' },
        idempotencyKey: `parking:${s.eventId}`,
        decision: deny('BLACKLISTED', 'Entry refused'),
      });
    }
    // A missed exit (or a cloned plate): the car comes in on a new stay, and the old one waits for an
    // attendant, all in the entry's own commit (one record, one decision for this event).
    const inside = store.openSession(digest);
    const session: OpenSession = {
      sessionId: randomUUID(),
      plateDigest: digest,
      entryAt: now,
      entryTerminal: terminalId,
    };
    const pass = passOf(digest, now);
    const decision = await record({
      kind: 'plate-sighting',
      terminalId,
      sighting: s,
      plate,
      amountFen: null,
      payload: {
        lane: 'entry',
        plateDigest: digest,
        sessionId: session.sessionId,
        confidence: Math.round(s.confidence * 1000),
        pass,
        ...(inside ? { review: 'ENTRY_WHILE_INSIDE', previousSession: inside.sessionId } : {}),
      },
      idempotencyKey: `parking:${s.eventId}`,
      decision: OPEN,
      apply: () => {
        if (inside) {
          store.closeSession(inside.sessionId, now, null);
          store.addReview(
            { eventId: s.eventId, at: now, terminalId, reason: 'ENTRY_WHILE_INSIDE', plateDigest: digest },
            plate,
          );
        }
        store.startSession(session, plate);
      },
    });
    logger.info({ terminalId, plate: maskTail(plate), pass }, 'parking: entry');
    if (inside) {
      logger.warn(
        { terminalId, plate: maskTail(plate), reason: 'ENTRY_WHILE_INSIDE' },
        'parking: passage queued for manual review',
      );
      raiseReviewAlert();
    }
    return decision;
  }

  async function exit(
    terminalId: string,
    s: PlateSighting,
    plate: string,
    digest: string,
  ): Promise<AccessDecision> {
    const now = clock.now();
    const session = store.openSession(digest);
    if (!session) {
      if (s.confidence < config.misreadMaxConfidence) {
        const near = store.openSessionsWhere((inside) => oneCharacterApart(inside, plate));
        if (near.length > 0) {
          return review(terminalId, s, plate, digest, 'LIKELY_MISREAD', {
            candidates: near.map((n) => n.sessionId),
            confidence: Math.round(s.confidence * 1000),
          });
        }
      }
      return review(terminalId, s, plate, digest, 'EXIT_WITHOUT_ENTRY');
    }
    const pass = passOf(digest, now);
    const { fen, minutes } = pass
      ? { fen: 0, minutes: Math.ceil((now - session.entryAt) / 60_000) }
      : parkingFeeFen(session.entryAt, now, config.fees);
    const decision = await record({
      kind: fen > 0 ? 'sale' : 'plate-sighting',
      terminalId,
      sighting: s,
      plate,
      amountFen: fen > 0 ? fen : null,
      payload: {
        lane: 'exit',
        plateDigest: digest,
        sessionId: session.sessionId,
        entryAt: session.entryAt,
        exitAt: now,
        minutes,
        feeFen: fen,
        pass,
      },
      idempotencyKey: `parking-exit:${session.sessionId}`,
      decision: fen > 0 ? { outcome: 'open', displayText: `Fee ${(fen / 100).toFixed(2)} yuan` } : OPEN,
      apply: () => store.closeSession(session.sessionId, now, fen),
    });
    logger.info({ terminalId, plate: maskTail(plate), minutes, feeFen: fen, pass }, 'parking: exit');
    return decision;
  }

  async function decideNew(terminalId: string, s: PlateSighting, plate: string): Promise<AccessDecision> {
    const digest = digestOf(plate);
    return s.lane === 'entry' ? entry(terminalId, s, plate, digest) : exit(terminalId, s, plate, digest);
  }

  let lastPrune = 0;
  return {
    async decide(terminalId, s) {
      const replayed = store.cachedDecision(s.eventId);
      if (replayed) return replayed;
      const now = clock.now();
      if (now - lastPrune > DAY_MS) {
        lastPrune = now;
        store.pruneSnapshots(now - config.snapshotRetentionDays * DAY_MS);
      }
      const plate = normalisePlate(s.plate);
      const lane = `${terminalId}:${s.lane}`;
      const match = window.match(lane, plate, s.confidence, now);
      if (match?.kind === 'same') return match.read.decision;
      if (match?.kind === 'misread') {
        logger.warn(
          { terminalId, plate: maskTail(plate), of: maskTail(match.read.plate), confidence: s.confidence },
          'parking: likely misread of a car just seen; same sighting',
        );
        const decision = await match.read.decision;
        await ledger.append({
          kind: 'plate-sighting',
          terminalId,
          amountFen: null,
          payload: {
            scenario: 'parking',
            eventId: s.eventId,
            lane: s.lane,
            flag: 'LIKELY_MISREAD',
            plateDigest: digestOf(plate),
            ofPlateDigest: digestOf(match.read.plate),
            confidence: Math.round(s.confidence * 1000),
          },
          pii: { plateNumber: plate },
          idempotencyKey: `parking:${s.eventId}`,
          withinCommit: () => store.cacheDecision(s.eventId, decision, now),
        });
        return decision;
      }
      const decision = decideNew(terminalId, s, plate);
      window.remember(lane, plate, now, decision);
      // A read that got no decision (the ledger refused it) must not answer the next read of the car.
      decision.catch(() => window.forget(lane, plate));
      return decision;
    },
    pendingReviews: () => store.pendingReviews(),
    snapshot: (digest) => store.snapshot(digest),
    attachSnapshot: (eventId, jpeg) => store.putSnapshot(jpeg, clock.now(), eventId),
    snapshotOf: (eventId) => store.snapshotOf(eventId),
  };
}
