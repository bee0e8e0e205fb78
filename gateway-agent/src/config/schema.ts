import { z } from 'zod';

/**
 * The box configuration, version 1. One zod schema is the single source: the TypeScript type is
 * z.infer of it and `sceneway config schema` prints its JSON Schema, so the installer UI, the docs and
 * the loader can never disagree. Terminal drivers contribute their own config schemas through the
 * driver registry (see driver-config.ts); this file holds what every box has.
 */
export const CONFIG_VERSION = 2;

const hex = (bytes: number, what: string) =>
  z.string().regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), `expected ${what}: ${bytes * 2} hex digits`);

/** SM2 public keys are pinned uncompressed: 04 ‖ x ‖ y (65 bytes). */
export const sm2PublicKeyHex = z
  .string()
  .regex(/^04[0-9a-fA-F]{128}$/, 'expected an uncompressed SM2 public key: 130 hex digits starting with 04');

const identifier = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'expected 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

const port = z.number().int().min(0, 'expected a TCP port 0-65535 (0 = any free port)').max(65535);

const listener = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port,
});

export const boxConfigSchema = z
  .object({
    version: z.literal(CONFIG_VERSION),
    site: z.object({
      id: identifier,
      name: z.string().max(200).optional(),
      /** IANA zone of the site: when the nightly jobs (retention, reconciliation) run. */
      timezone: z.string().min(1).default('Asia/Shanghai'),
    }),
    box: z.object({ id: identifier }),
    bank: z.object({
      /** Bank ingest endpoint; HTTPS in production, http only on loopback for the demo. */
      url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL of the bank ingest service' }),
      /** The bank's pinned SM2 public key: verifies acks, blacklists and firmware (DESIGN invariant 7). */
      publicKeyHex: sm2PublicKeyHex,
      userId: z.string().min(1).default('1234567812345678'),
      /** How often the box asks the bank for canteen blacklist updates (GET /v1/blacklist); 0 = never. */
      blacklistPollSeconds: z.number().int().min(0).max(86_400).default(300),
      tls: z
        .object({
          certPath: z.string().min(1),
          keyPath: z.string().min(1),
          caPath: z.string().min(1).optional(),
        })
        .optional(),
    }),
    ledger: z
      .object({
        path: z.string().min(1).default('data/ledger.db'),
        quarantineDir: z.string().min(1).optional(),
        /** Below this many free MiB the ledger refuses new records (LEDGER_DISK_FULL) before SQLite must. */
        freeSpaceFloorMb: z.number().int().min(0).default(64),
      })
      .prefault({}),
    keys: z.object({ dir: z.string().min(1).default('data/keys') }).prefault({}),
    broker: z
      .object({
        tcp: listener.prefault({ host: '127.0.0.1', port: 1883 }),
        tls: z
          .object({
            host: z.string().min(1).default('0.0.0.0'),
            port,
            certPath: z.string().min(1),
            keyPath: z.string().min(1),
            caPath: z.string().min(1).optional(),
            requireClientCert: z.boolean().default(false),
          })
          .optional(),
      })
      .prefault({}),
    admin: listener.prefault({ host: '127.0.0.1', port: 8080 }),
    retention: z
      .object({
        /** Acknowledged records older than this are pruned; unacknowledged ones never are. */
        days: z.number().int().min(1).max(3650).default(90),
        cron: z.string().min(9).default('17 3 * * *'),
      })
      .prefault({}),
    sync: z
      .object({
        maxRecords: z.number().int().min(1).max(100_000).default(1000),
        maxBytes: z
          .number()
          .int()
          .min(1024)
          .default(4 * 1024 * 1024),
        maxAgeMs: z.number().int().min(0).default(5000),
        backoffBaseMs: z.number().int().min(1).default(500),
        backoffCapMs: z.number().int().min(1).default(60_000),
      })
      .prefault({}),
    reconciliation: z
      .object({
        /** Where the daily `sceneway.recon.v1` reports go (docs/reconciliation.md). */
        dir: z.string().min(1).default('data/recon'),
        /** node-cron expression, UTC: after the day closes and its outbox has drained. */
        cron: z.string().min(9).default('20 0 * * *'),
      })
      .prefault({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .prefault({}),
  })
  .strict();

export type BoxConfig = z.infer<typeof boxConfigSchema>;
export type BoxConfigInput = z.input<typeof boxConfigSchema>;
export { hex };
