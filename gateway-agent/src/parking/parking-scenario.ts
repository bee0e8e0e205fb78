import { defineScenario } from '../scenarios/scenario-api.ts';
import { parkingConfigSchema } from './parking-config.ts';
import { createParkingRules } from './parking-rules.ts';

/**
 * The parking lot as a scenario: plate sightings from entry and exit cameras decided by
 * parking-rules.ts, fees charged on the ledger's money path. Drivers reach it only through events.
 */
export const parkingScenario = defineScenario({
  id: 'parking',
  configSchema: parkingConfigSchema,
  handles: ['PlateSighted', 'PlateSnapshotTaken'],
  create(ctx, config) {
    const rules = createParkingRules({
      ledger: ctx.ledger,
      config,
      holderDigests: ctx.holderDigests,
      clock: ctx.clock,
      logger: ctx.logger,
      alerts: {
        raise: (code, message, hint) => ctx.alerts.raise({ code, message, ...(hint ? { hint } : {}) }),
      },
    });
    return {
      handlers: {
        PlateSighted: (e) => rules.decide(e.terminalId, e.sighting),
        PlateSnapshotTaken: async (e) => {
          rules.attachSnapshot(e.eventId, e.jpeg);
        },
      },
      start() {
        // Reviews left from before a restart are still waiting: say so again.
        const pending = rules.pendingReviews().length;
        if (pending > 0) {
          ctx.alerts.raise({
            code: 'PARKING_MANUAL_REVIEW',
            message: `${pending} parking passage(s) wait for manual review`,
            hint: 'An attendant checks the car at the lane and its snapshot; the queue is in the parking_review table.',
          });
        }
      },
    };
  },
});
