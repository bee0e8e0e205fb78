import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/**
 * The agent's Prometheus metrics (prom-client: the maintained exporter library, so the text format,
 * escaping and HELP/TYPE lines are right by construction). Names carry units and counters end in
 * `_total`, as `promtool check metrics` requires.
 */
export function createAgentMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sceneway_process_' });
  // prom-client names three *gauges* `..._total`, which promtool rightly rejects (only counters may end
  // in _total). They duplicate what the other process metrics say, so we drop them rather than ship a
  // scrape that fails `promtool check metrics`.
  for (const gauge of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    registry.removeSingleMetric(`sceneway_process_${gauge}`);
  }
  const metrics = {
    registry,
    ledgerRecordsAppended: new Counter({
      name: 'sceneway_ledger_records_appended_total',
      help: 'Ledger records committed durably, by kind.',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    ledgerUnsyncedRecords: new Gauge({
      name: 'sceneway_ledger_unsynced_records',
      help: 'Records not yet acknowledged by the bank (outbox depth).',
      registers: [registry],
    }),
    ledgerOldestUnsyncedAge: new Gauge({
      name: 'sceneway_ledger_oldest_unsynced_age_seconds',
      help: 'Age of the oldest record the bank has not acknowledged; 0 when all are synced.',
      registers: [registry],
    }),
    ledgerHeadSeq: new Gauge({
      name: 'sceneway_ledger_head_sequence',
      help: 'Sequence number of the newest committed record.',
      registers: [registry],
    }),
    salesDecided: new Counter({
      name: 'sceneway_sales_decided_total',
      help: 'Sale decisions sent to terminals, by outcome and decline reason.',
      labelNames: ['outcome', 'reason'] as const,
      registers: [registry],
    }),
    syncBatchesAcked: new Counter({
      name: 'sceneway_sync_batches_acked_total',
      help: 'Batches whose signed bank acknowledgement verified.',
      registers: [registry],
    }),
    syncFailures: new Counter({
      name: 'sceneway_sync_failures_total',
      help: 'Failed upload attempts, by error code.',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    brokerConnectedClients: new Gauge({
      name: 'sceneway_broker_connected_clients',
      help: 'MQTT clients connected to the embedded terminal broker.',
      registers: [registry],
    }),
    brokerAuthFailures: new Counter({
      name: 'sceneway_broker_auth_failures_total',
      help: 'MQTT logins the terminal broker refused, by reason (never by username).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    brokerLockouts: new Counter({
      name: 'sceneway_broker_login_lockouts_total',
      help: 'Login lockouts the terminal broker started after repeated failures, by scope (address, username, pair).',
      labelNames: ['scope'] as const,
      registers: [registry],
    }),
    brokerLockedOut: new Gauge({
      name: 'sceneway_broker_locked_out',
      help: 'Addresses, usernames and terminal paths locked out of the terminal broker now, by scope.',
      labelNames: ['scope'] as const,
      registers: [registry],
    }),
    brokerLoginChecksQueued: new Gauge({
      name: 'sceneway_broker_login_checks_queued',
      help: 'MQTT logins waiting for a password check (bounded; beyond the bound CONNACK 3).',
      registers: [registry],
    }),
    brokerConnectionsDropped: new Counter({
      name: 'sceneway_broker_connections_dropped_total',
      help: 'Sockets the terminal broker dropped for its connection or packet caps, by reason.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    terminalsUp: new Gauge({
      name: 'sceneway_terminals_up',
      help: 'Terminals currently answering, by driver.',
      labelNames: ['driver'] as const,
      registers: [registry],
    }),
    alertsRaised: new Counter({
      name: 'sceneway_alerts_raised_total',
      help: 'Operational alerts raised, by code.',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
  };
  return metrics;
}

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;
