import { z } from 'zod';

/**
 * How an MQTT terminal logs in to the box's embedded broker, for the config schema of every MQTT family:
 * its own username and an scrypt hash of its password (`sceneway broker hash-password`). The clear
 * password is never in the config.
 */
export const mqttLoginSchema = z
  .object({
    username: z.string().min(1).max(128).describe('MQTT username this terminal logs in with.'),
    passwordHash: z
      .string()
      .regex(/^scrypt\$/, 'expected an scrypt hash (run `sceneway broker hash-password`)')
      .describe('scrypt hash of its password, from `sceneway broker hash-password`.'),
  })
  .strict();

export type MqttLogin = z.infer<typeof mqttLoginSchema>;
