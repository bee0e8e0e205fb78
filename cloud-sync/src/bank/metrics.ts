import { Counter, Gauge, Registry } from 'prom-client';

/**
 * The bank's Prometheus metrics through prom-client (DESIGN "Real components": prom-client on every
 * service), each with HELP and TYPE so `promtool check metrics` passes (a test runs it). Its own
 * registry, not prom-client's global one: tests start several banks in one process.
 */
const COUNTERS = {
  sceneway_bank_batches_total: {
    help: 'Batches acknowledged, by outcome (stored or duplicate).',
    labels: ['outcome'],
  },
  sceneway_bank_records_stored_total: {
    help: 'Records stored by this process since it started.',
    labels: [],
  },
  sceneway_bank_refusals_total: { help: 'Requests refused, by refusal code.', labels: ['code'] },
  sceneway_bank_tamper_alerts_total: { help: 'Tamper alerts raised, by kind.', labels: ['kind'] },
  sceneway_bank_batches_parsed_total: {
    help: 'Batch bodies parsed as JSON: only after the request signature and the raw digest verified.',
    labels: [],
  },
} as const;
export type BankCounter = keyof typeof COUNTERS;

export class BankMetrics {
  readonly registry = new Registry();
  private readonly counters = new Map<BankCounter, Counter>();
  /** The same counts, readable synchronously (prom-client's get() is async). */
  private readonly values = new Map<string, number>();
  private readonly recordsStored: Gauge;
  private storedRecords: () => Promise<number> = async () => 0;

  constructor() {
    for (const [name, def] of Object.entries(COUNTERS) as Array<
      [BankCounter, (typeof COUNTERS)[BankCounter]]
    >) {
      this.counters.set(
        name,
        new Counter({ name, help: def.help, labelNames: [...def.labels], registers: [this.registry] }),
      );
    }
    const self = this;
    this.recordsStored = new Gauge({
      name: 'sceneway_bank_records_stored',
      help: "Records the store holds: the sum of the boxes' chain heads (no count(*)).",
      registers: [this.registry],
      async collect() {
        self.recordsStored.set(await self.storedRecords());
      },
    });
  }

  inc(name: BankCounter, labels: Record<string, string> = {}, by = 1): void {
    this.counters.get(name)?.inc(labels, by);
    const key = `${name}${JSON.stringify(labels)}`;
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  /** A counter's value (0 when never incremented). */
  value(name: BankCounter, labels: Record<string, string> = {}): number {
    return this.values.get(`${name}${JSON.stringify(labels)}`) ?? 0;
  }

  /** Where the records gauge reads from at each scrape. */
  gaugeStoredRecordsFrom(read: () => Promise<number>): void {
    this.storedRecords = read;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
