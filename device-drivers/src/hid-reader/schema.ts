import { z } from 'zod';
import { reconnectSchema } from '../reconnect-schema.ts';

/**
 * Config of one USB HID card/QR reader. The TypeScript type is z.infer of this schema (STYLE.md).
 * vendorId/productId are numbers; in YAML write them as hex (`vendorId: 0x1a86`), which YAML 1.2 reads
 * as an integer, so they match what `lsusb` prints.
 */
const usbId = z.number().int().min(0).max(0xffff);

export const hidReaderConfigSchema = z
  .object({
    /** Optional echo of the registry entry's `driver` field, accepted so a flat config also validates. */
    driver: z
      .literal('hid-reader')
      .optional()
      .describe("Optional echo of the entry's `driver` field; accepted so a flat config also validates."),
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected 1-64 letters, digits, ".", "_" or "-"')
      .describe('Terminal id of this reader in events and the ledger, e.g. "window-3-reader".'),
    vendorId: usbId.describe('USB vendor id, e.g. 0x1a86 (lsusb: ID 1a86:e026).'),
    productId: usbId.describe('USB product id.'),
    serialNumber: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('USB serial number: required when two readers of one model hang on the same box.'),
    format: z
      .enum(['keyboard-wedge', 'vendor'])
      .describe(
        'keyboard-wedge: the reader types like a keyboard; vendor: docs/protocols/hid-vendor-report.md.',
      ),
    cardText: z
      .enum(['hex', 'decimal'])
      .default('hex')
      .describe(
        'keyboard-wedge only: how the reader types a card UID (hex, or the 10-digit decimal "8H10D").',
      ),
    idleResetMs: z
      .number()
      .int()
      .min(20)
      .max(10_000)
      .default(500)
      .describe('keyboard-wedge only: a read left unfinished this long is discarded.'),
    reconnect: reconnectSchema({
      initialDelayMs: 250,
      maxDelayMs: 10_000,
      first: 'First poll delay after the reader goes.',
      longest: 'Longest poll delay.',
      what: 'Device-list polling while the reader is absent',
    }),
  })
  .strict()
  .describe('One USB HID card/QR reader, found by vendor and product id (and serial number when two match).');

export type HidReaderConfig = z.infer<typeof hidReaderConfigSchema>;
