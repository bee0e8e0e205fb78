import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The fleet server's /metrics (promtool-clean: HELP and TYPE on each, base units, _total on counters). */
export function createFleetMetrics() {
  const registry = new Registry();
  return {
    registry,
    messages: new Counter({
      name: 'sceneway_fleet_telemetry_messages_total',
      help: 'Telemetry messages this replica received, by kind (heartbeat, status) and outcome.',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    lag: new Histogram({
      name: 'sceneway_fleet_telemetry_lag_seconds',
      help: 'Heartbeat receive time minus its send time (box clock), as this replica saw it.',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [registry],
    }),
    boxes: new Gauge({
      name: 'sceneway_fleet_boxes',
      help: 'Boxes known to the fleet, by state (online, offline).',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    activeAlerts: new Gauge({
      name: 'sceneway_fleet_alerts_active',
      help: 'Active fleet alerts, by rule.',
      labelNames: ['rule'] as const,
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'sceneway_fleet_webhook_notifications_total',
      help: 'Alert webhook notifications, by event (raised, resolved) and outcome (delivered, failed, dropped).',
      labelNames: ['event', 'outcome'] as const,
      registers: [registry],
    }),
  };
}

export type FleetMetrics = ReturnType<typeof createFleetMetrics>;
