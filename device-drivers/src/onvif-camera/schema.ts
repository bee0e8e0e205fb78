import { z } from 'zod';
import { reconnectSchema } from '../reconnect-schema.ts';

/**
 * Config of one ONVIF licence-plate camera watching one parking lane. The TypeScript type is z.infer of
 * this schema (STYLE.md). The camera's password is not in the config file: `passwordEnv` names the
 * environment variable that holds it (UsernameToken digests need the clear password, so it cannot be
 * stored as a hash the way MQTT terminal passwords are).
 */
export const onvifCameraConfigSchema = z
  .object({
    driver: z
      .literal('onvif-camera')
      .optional()
      .describe("Optional echo of the entry's `driver` field; accepted so a flat config also validates."),
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected 1-64 letters, digits, ".", "_" or "-"')
      .describe('Terminal id of this camera in events and the ledger, e.g. "lot-a-entry-cam".'),
    lane: z
      .enum(['entry', 'exit'])
      .describe('Which lane the camera watches: a plate read here enters or leaves.'),
    deviceUrl: z
      .string()
      .url()
      .regex(/^https?:\/\//, 'expected an http(s) URL')
      .describe('The ONVIF device service, e.g. http://192.0.2.21/onvif/device_service.'),
    username: z.string().min(1).max(64).describe('ONVIF user the box logs in as (WS-UsernameToken).'),
    passwordEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name such as CAM_LOT_A_PASSWORD')
      .describe("Environment variable holding that user's password (never written in the config)."),
    relayToken: z
      .string()
      .min(1)
      .max(64)
      .describe('DeviceIO relay output that lifts the barrier (GetRelayOutputs lists the tokens).'),
    relayPulseMs: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .default(0)
      .describe(
        'After an open, set the relay inactive again after this long; 0 leaves it to a monostable relay.',
      ),
    snapshot: z
      .boolean()
      .default(true)
      .describe(
        'Fetch a snapshot (GetSnapshotUri) with each plate, beside the decision; stored sealed, by its digest.',
      ),
    snapshotTimeoutMs: z
      .number()
      .int()
      .min(50)
      .max(10_000)
      .default(1000)
      .describe('A snapshot slower than this is skipped.'),
    requestTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(120_000)
      .default(10_000)
      .describe('An ONVIF request (other than PullMessages) unanswered this long means the camera is down.'),
    silenceTimeoutMs: z
      .number()
      .int()
      .min(200)
      .max(300_000)
      .default(75_000)
      .describe(
        'A PullMessages unanswered this long means the camera is down. Keep it above the 60 s the client asks a camera to hold a pull.',
      ),
    firmware: z
      .object({
        uploadAttempts: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(3)
          .describe(
            'Uploads tried per install: ONVIF has no resume, so a broken upload is sent again whole under a fresh UploadUri.',
          ),
        uploadTimeoutMs: z
          .number()
          .int()
          .min(1000)
          .max(3_600_000)
          .default(600_000)
          .describe('Longest one firmware upload (the POST of the whole package and its answer) may take.'),
        rebootMarginMs: z
          .number()
          .int()
          .min(0)
          .max(3_600_000)
          .default(60_000)
          .describe("Waited beyond the camera's ExpectedDownTime for it to answer again after an upgrade."),
        maxRebootWaitMs: z
          .number()
          .int()
          .min(1000)
          .max(3_600_000)
          .default(600_000)
          .describe('Caps the ExpectedDownTime a camera announces (its word is not trusted without bound).'),
        pollIntervalMs: z
          .number()
          .int()
          .min(10)
          .max(60_000)
          .default(1000)
          .describe('How often the camera is asked whether it is back while it reboots.'),
      })
      .strict()
      .default({
        uploadAttempts: 3,
        uploadTimeoutMs: 600_000,
        rebootMarginMs: 60_000,
        maxRebootWaitMs: 600_000,
        pollIntervalMs: 1000,
      })
      .describe('Firmware delivery by ONVIF StartFirmwareUpgrade (docs/protocols/onvif-plate-camera.md).'),
    reconnect: reconnectSchema({
      initialDelayMs: 250,
      maxDelayMs: 30_000,
      first: 'First retry delay after the camera goes.',
      longest: 'Longest retry delay.',
      what: 'Reconnect (and resubscribe) while the camera is away',
    }),
  })
  .strict()
  .describe('One ONVIF plate camera (Profile S + events + DeviceIO relay) at a parking lane.');

export type OnvifCameraConfig = z.infer<typeof onvifCameraConfigSchema>;
