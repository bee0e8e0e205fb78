import { z } from 'zod';
import { mqttLoginSchema } from '../mqtt-login.ts';

/** The box's firmware image server for this entry's readers (firmware-image-server.ts). */
const firmwareHttpSchema = z
  .object({
    host: z
      .string()
      .min(1)
      .default('0.0.0.0')
      .describe('Address the image server listens on: the site network the readers are on.'),
    port: z
      .number()
      .int()
      .min(0)
      .max(65_535)
      .describe('TCP port of the image server (0: any free port, for tests).'),
    advertisedUrl: z
      .string()
      .url()
      .regex(/^http:\/\/[^/?#]+\/?$/, 'an origin only: http://host:port')
      .optional()
      .describe(
        'Origin the readers reach the image server at, e.g. http://192.0.2.1:8099; default http://<host>:<port> as bound (set it when host is 0.0.0.0).',
      ),
    maxConnections: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(16)
      .describe('Connections the image server accepts at once; more are closed at accept.'),
    maxConnectionsPerPeer: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(4)
      .describe(
        'Connections one address may hold at once (a reader fetches one window at a time); more are closed at accept.',
      ),
    idleTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(30_000)
      .describe('A connection that sends or takes nothing this long is closed.'),
    headersTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(120_000)
      .default(10_000)
      .describe('A request whose headers are not complete this long after it began is dropped (slowloris).'),
    tokenTtlMs: z
      .number()
      .int()
      .min(10_000)
      .max(86_400_000)
      .default(1_800_000)
      .describe(
        "How long a transfer's download token is valid: a reader that has not fetched and checked the image by then fails the transfer (retryable).",
      ),
    rebootTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(3_600_000)
      .default(300_000)
      .describe(
        'How long a reader may take to reboot into its new slot and report again before the install fails.',
      ),
  })
  .strict();

/** `drivers[i].config` of a face-reader entry: the readers that log in to the box's broker. */
export const faceReaderConfigSchema = z
  .object({
    readers: z
      .array(
        mqttLoginSchema
          .extend({
            id: z
              .string()
              .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _ (it is an MQTT topic level)')
              .describe('Terminal id of the reader; also its MQTT client id and topic prefix.'),
          })
          .strict(),
      )
      .min(1)
      .describe('The face/attendance readers of this entry, each with its own MQTT login.'),
    commandTtlMs: z
      .number()
      .int()
      .min(1000)
      .max(120_000)
      .default(10_000)
      .describe(
        'A door command not carried out within this long expires: the reader must not act on it later, and the box reports it expired.',
      ),
    firmwareHttp: firmwareHttpSchema
      .optional()
      .describe(
        'The image server readers fetch firmware from (docs/protocols/face-reader.md §8); without it these readers take no firmware updates.',
      ),
  })
  .strict()
  .describe('MQTT face/attendance readers (docs/protocols/face-reader.md).');

export type FaceReaderConfig = z.infer<typeof faceReaderConfigSchema>;
export type FaceReaderConfigInput = z.input<typeof faceReaderConfigSchema>;
