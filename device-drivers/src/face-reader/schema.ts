import { z } from 'zod';
import { mqttLoginSchema } from '../mqtt-login.ts';

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
  })
  .strict()
  .describe('MQTT face/attendance readers (docs/protocols/face-reader.md).');

export type FaceReaderConfig = z.infer<typeof faceReaderConfigSchema>;
export type FaceReaderConfigInput = z.input<typeof faceReaderConfigSchema>;
