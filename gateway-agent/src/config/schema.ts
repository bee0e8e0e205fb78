import { z } from 'zod';
import { parsePasswordHash } from '../broker/password-hash.ts';

/**
 * The box configuration, version 2. One zod schema is the single source: the TypeScript type is
 * z.infer of it, `sceneway config schema` prints its JSON Schema and docs/configuration.md is generated
 * from it (`npm run docs:config`), so the installer UI, the docs and the loader can never disagree.
 * Terminal drivers contribute their own config schemas through the driver registry (see
 * driver-config.ts); this file holds what every box has.
 *
 * Every object is strict: a misspelt key is an error naming it, never a silently applied default
 * (`scenarios.canteen.limits: { perTransactionLimit: 100 }` once validated and left the 50,000 fen default in force).
 * Every field carries a description; a test fails on any field without one.
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

/** The sentence every file or folder field carries; config-paths.ts resolves exactly these fields. */
export const RELATIVE_PATH_NOTE = "A relative path resolves against the config file's folder.";

/** A file or folder on the box. Listed in config-paths.ts, which resolves it after parsing. */
const fsPath = (description: string) => z.string().min(1).describe(`${description} ${RELATIVE_PATH_NOTE}`);

const listenerShape = (what: string, defaultPort: number) => ({
  host: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe(`Address the ${what} listens on; 127.0.0.1 keeps it on the box, 0.0.0.0 opens it to the LAN.`),
  port: port.default(defaultPort).describe(`TCP port of the ${what}; 0 picks any free port (tests).`),
});

const listener = (what: string, defaultPort: number) =>
  z.strictObject(listenerShape(what, defaultPort)).prefault({});

/** The installer's commissioning UI on the admin listener (issue #14 item 4, D39). */
const installerSchema = z
  .strictObject({
    passwordHash: z
      .string()
      .refine(
        (hash) => parsePasswordHash(hash) !== null,
        'expected an scrypt hash (run `sceneway broker hash-password`)',
      )
      .describe(
        'scrypt hash of the installer password, from `sceneway broker hash-password`; the UI login at /ui/ checks it.',
      ),
  })
  .optional()
  .describe(
    'The commissioning UI at /ui/ on the admin listener; absent = off (/ui/ says how to turn it on).',
  );

/** Mutual TLS material: the box's certificate and key, and the CA that signed the other side's. */
const tlsFiles = (presentedTo: string, caDescription: string) => ({
  certPath: fsPath(`PEM certificate the box presents to ${presentedTo}.`),
  keyPath: fsPath('PEM private key of that certificate (keep it 0600).'),
  caPath: fsPath(caDescription).optional(),
});

const bankSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL of the bank ingest service' })
      .describe(
        'Bank ingest endpoint; HTTPS in production. http:// off loopback is refused unless insecure.plainHttpBank acknowledges it.',
      ),
    publicKeyHex: sm2PublicKeyHex.describe(
      "The bank's pinned SM2 public key (130 hex digits, 04...): verifies acks, blacklists and firmware.",
    ),
    userId: z
      .string()
      .min(1)
      .default('1234567812345678')
      .describe('SM2 signer user id agreed with the bank (GM/T 0009 default 1234567812345678).'),
    blacklistPollSeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(300)
      .describe(
        'How often the box asks the bank for canteen blacklist updates (GET /v1/blacklist); 0 = never.',
      ),
    tls: z
      .strictObject(
        tlsFiles(
          'the bank',
          "PEM CA certificate(s) that signed the bank's server certificate; absent = the system CAs.",
        ),
      )
      .optional()
      .describe('Mutual TLS towards the bank: the client certificate the bank enrolled for this box.'),
  })
  .describe('Where signed batches go, and the key that checks what the bank signs.');

const ledgerSchema = z
  .strictObject({
    path: fsPath('SQLite ledger file (created on first start; its WAL and SHM files sit beside it).').default(
      'data/ledger.db',
    ),
    quarantineDir: fsPath(
      'Where a ledger that fails the boot check is moved before a fresh one starts; absent = a `quarantine` folder beside the ledger.',
    ).optional(),
    freeSpaceFloorMb: z
      .number()
      .int()
      .min(0)
      .default(64)
      .describe(
        'Below this many free MiB the ledger refuses new records (LEDGER_DISK_FULL) before SQLite must.',
      ),
  })
  .prefault({})
  .describe('The durable record of every transaction on the box.');

/** An MQTT topic filter a service is granted ([MQTT-4.7.1]: `+` a whole level, `#` the whole last one). */
const topicFilter = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (f) =>
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
      !/[\u0000-\u001f\u007f-\u009f\ufffd]/.test(f) &&
      f
        .split('/')
        .every((level, i, all) =>
          level.includes('#') ? level === '#' && i === all.length - 1 : !level.includes('+') || level === '+',
        ),
    'expected an MQTT topic filter: "+" only as a whole level, "#" only as the whole last level, no control characters',
  );

const brokerServiceSchema = z
  .strictObject({
    username: identifier.describe(
      'MQTT username the service logs in with; its client id is this or `<username>:<suffix>`.',
    ),
    passwordHash: z
      .string()
      .regex(/^scrypt\$/, 'expected an scrypt hash (run `sceneway broker hash-password`)')
      .describe('scrypt hash of its password, from `sceneway broker hash-password`.'),
    publish: z
      .array(topicFilter)
      .max(64)
      .default([])
      .describe('Topic filters it may publish to (whole topics, e.g. sceneway/t/+/cmd); none by default.'),
    subscribe: z
      .array(topicFilter)
      .max(64)
      .default([])
      .describe('Topic filters it may subscribe to (e.g. sceneway/t/+/status); none by default.'),
  })
  .describe('A service identity: a program on the site LAN granted topics beyond any terminal prefix.');

const brokerSchema = z
  .strictObject({
    tcp: listener('terminal MQTT broker (plain TCP)', 1883).describe(
      'Plain MQTT listener; off loopback (passwords in clear on the LAN) it needs insecure.plaintextMqtt.',
    ),
    tls: z
      .strictObject({
        host: z.string().min(1).default('0.0.0.0').describe('Address the MQTT over TLS listener listens on.'),
        port: port.default(8883).describe('TCP port of the MQTT over TLS listener.'),
        ...tlsFiles(
          'terminals',
          "PEM CA certificate(s) that signed the terminals' client certificates; required by requireClientCert.",
        ),
        requireClientCert: z
          .boolean()
          .default(false)
          .describe(
            'Also require a terminal certificate signed by caPath, on top of username and password (004 §5.3.1 f).',
          ),
      })
      .superRefine((tls, ctx) => {
        // Caught here so `config validate` says it, not only the broker at start.
        if (tls.requireClientCert && tls.caPath === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['caPath'],
            message: "requireClientCert needs caPath: the CA that signed the terminals' client certificates",
          });
        }
      })
      .optional()
      .describe('MQTT over TLS listener; absent = no TLS listener.'),
    maxPacketBytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(256 * 1024)
      .describe(
        'Largest MQTT packet a logged-in terminal may send; a larger one disconnects it. Before login only a CONNECT of at most 4 KiB is read.',
      ),
    maxConnections: z
      .number()
      .int()
      .min(1)
      .max(65_536)
      .default(256)
      .describe('Sockets the broker holds at once, all addresses together; more are closed at once.'),
    maxConnectionsPerAddress: z
      .number()
      .int()
      .min(1)
      .max(65_536)
      .default(16)
      .describe('Sockets one source address may hold at once; more are closed at once.'),
    newAddressConnectsPerSecond: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(20)
      .describe(
        'New sockets a second (burst twice that) from addresses where no terminal ever logged in; more are closed at accept. Known addresses are not counted.',
      ),
    services: z
      .array(brokerServiceSchema)
      .max(32)
      .default([])
      .describe(
        "Service identities and their topic grants. Terminals get their driver's grant (their own prefix); a service gets exactly what is listed.",
      ),
  })
  .prefault({})
  .describe('The embedded MQTT broker (aedes) the site terminals connect to.');

const retentionSchema = z
  .strictObject({
    days: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(90)
      .describe('Acknowledged records older than this are pruned; unacknowledged ones never are.'),
    cron: z
      .string()
      .min(9)
      .default('17 3 * * *')
      .describe('node-cron expression of the prune job, in site.timezone.'),
  })
  .prefault({})
  .describe('Pruning of records the bank has acknowledged (personal data is not kept longer than needed).');

const syncSchema = z
  .strictObject({
    maxRecords: z.number().int().min(1).max(100_000).default(1000).describe('Most records in one batch.'),
    maxBytes: z
      .number()
      .int()
      .min(1024)
      .default(4 * 1024 * 1024)
      .describe('Most bytes in one batch body (a single record larger than this is still sent alone).'),
    maxAgeMs: z
      .number()
      .int()
      .min(0)
      .default(5000)
      .describe('A batch smaller than maxRecords is sent once its oldest record is this old.'),
    backoffBaseMs: z
      .number()
      .int()
      .min(1)
      .default(500)
      .describe('First retry delay after a failed upload; doubles per failure, with full jitter.'),
    backoffCapMs: z.number().int().min(1).default(60_000).describe('Longest retry delay between uploads.'),
  })
  .prefault({})
  .describe('How the uploader cuts the outbox into batches and retries the bank.');

const reconciliationSchema = z
  .strictObject({
    dir: fsPath('Where the daily `sceneway.recon.v1` reports go (docs/reconciliation.md).').default(
      'data/recon',
    ),
    cron: z
      .string()
      .min(9)
      .default('20 0 * * *')
      .describe('node-cron expression, UTC: after the day closes and its outbox has drained.'),
  })
  .prefault({})
  .describe('The daily reconciliation report the box writes and sends to the bank.');

/**
 * The uplink to the fleet (issue #14): heartbeats and a retained status over MQTT 3.1.1/5 to any broker.
 * Optional: absent, the box sends no telemetry. What it sends is in docs/telemetry.md, never personal data.
 */
const telemetrySchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^(mqtts?|wss?):\/\/[^/\s]+/, 'expected an mqtt://, mqtts://, ws:// or wss:// URL')
      .describe(
        'Fleet broker, e.g. mqtts://fleet.example:8883. Plain mqtt:// or ws:// off loopback is refused unless insecure.plaintextTelemetry acknowledges it.',
      ),
    username: z.string().min(1).max(256).optional().describe('MQTT username at the fleet broker.'),
    passwordPath: fsPath('File holding the MQTT password (one line, keep it 0600).').optional(),
    caPath: fsPath(
      'PEM CA that signed the fleet broker certificate (mqtts://, wss://); absent = the system CAs.',
    ).optional(),
    intervalSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(30)
      .describe('Seconds between heartbeats; the fleet marks a box offline after a few missed ones.'),
    topicPrefix: z
      .string()
      .regex(
        /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/,
        'expected topic levels of letters, digits, ".", "_" or "-", no wildcards',
      )
      .default('sceneway/fleet')
      .describe('Topics are <topicPrefix>/<box id>/heartbeat and <topicPrefix>/<box id>/status.'),
  })
  .optional()
  .describe('Fleet telemetry over MQTT (heartbeat, retained status, last will); absent = off.');

const acknowledge = (what: string) =>
  z
    .boolean()
    .optional()
    .describe(`true acknowledges ${what}; refused without it, warned about at every start with it.`);

/** The acknowledgements insecure-exceptions.ts checks (refused when missing, logged when present). */
const insecureSchema = z
  .strictObject({
    plainHttpBank: acknowledge('a plain http:// bank.url off loopback (batches in clear)'),
    plaintextMqtt: acknowledge(
      'a plaintext MQTT listener (broker.tcp.host) off loopback (terminal passwords in clear)',
    ),
    adminOffLoopback: acknowledge('the unauthenticated admin API (admin.host) off loopback'),
    plaintextTelemetry: acknowledge(
      'plain mqtt:// or ws:// telemetry (telemetry.url) to a broker off loopback (fleet password in clear)',
    ),
  })
  .optional()
  .describe(
    'Explicit acknowledgements of insecure settings, one per exception; absent = none is accepted. For test benches, never for a site.',
  );

export const boxConfigSchema = z.strictObject({
  version: z
    .literal(CONFIG_VERSION)
    .describe('Config format version; older files are migrated on load (`config validate --print`).'),
  site: z
    .strictObject({
      id: identifier.describe('Site id, the same on every box of the site, e.g. "campus-north-canteen".'),
      name: z.string().max(200).optional().describe('Human name of the site, shown in dashboards.'),
      timezone: z
        .string()
        .min(1)
        .default('Asia/Shanghai')
        .describe('IANA time zone of the site: when the nightly jobs (retention, reconciliation) run.'),
    })
    .describe('The site this box serves.'),
  box: z
    .strictObject({
      id: identifier.describe(
        'Box id enrolled with the bank; every record id is this box id plus a sequence.',
      ),
    })
    .describe('This box.'),
  bank: bankSchema,
  ledger: ledgerSchema,
  keys: z
    .strictObject({
      dir: fsPath('Folder of the sealed box keys written by `sceneway keys init`.').default('data/keys'),
    })
    .prefault({})
    .describe('Where the SM2 box key and SM4 data key live (0600, encrypted at rest).'),
  broker: brokerSchema,
  admin: z
    .strictObject({
      ...listenerShape('local admin API (status, metrics, installer UI)', 8080),
      installer: installerSchema,
    })
    .prefault({})
    .describe(
      'Local admin API: /api/status, /metrics and the installer UI (/ui/); /api/status and /metrics are unauthenticated, so off loopback it needs insecure.adminOffLoopback.',
    ),
  retention: retentionSchema,
  sync: syncSchema,
  reconciliation: reconciliationSchema,
  log: z
    .strictObject({
      level: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
        .default('info')
        .describe('Least severe level written (JSON on stderr); `sceneway start --log-level` overrides it.'),
    })
    .prefault({})
    .describe('Structured logging.'),
  telemetry: telemetrySchema,
  insecure: insecureSchema,
});

export type BoxConfig = z.infer<typeof boxConfigSchema>;
export type BoxConfigInput = z.input<typeof boxConfigSchema>;
export { hex };
