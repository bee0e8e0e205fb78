import { z } from 'zod';
import { reconnectSchema } from '../reconnect-schema.ts';

/**
 * Config of one canteen POS port (the agent wraps it as `drivers[i] = { driver: 'canteen-pos', config }`).
 * The TypeScript type is z.infer of this schema, never written twice (STYLE.md).
 */

/**
 * Stable names survive a replug into another USB socket; ttyUSB0 does not. Any absolute path is accepted:
 * /dev/ttyS0 for an on-board UART, and a socat pty link (the demo site and tests) lives outside /dev.
 */
const portPath = z
  .string()
  .regex(
    /^\/\S+$/,
    'expected an absolute device path, e.g. /dev/serial/by-id/usb-FTDI_..._A5069RR4-if00-port0',
  )
  .describe('Serial device. Prefer /dev/serial/by-id/...: it names the adapter, not the USB socket.');

const terminalSchema = z
  .object({
    id: z.string().min(1).max(64).describe('Terminal id used in the ledger and events, e.g. "north-till-3".'),
    address: z
      .number()
      .int()
      .min(1)
      .max(247)
      .default(1)
      .describe('Bus address 1..247 set on the terminal; on RS-232 the single terminal is usually 1.'),
    protocol: z
      .union([z.literal(1), z.literal(2)])
      .default(2)
      .describe(
        'POS protocol of the till: 2 (default) authenticates the till (session handshake, a MAC on every ' +
          'money frame; key from `sceneway terminal provision <id>`); 1 has no authentication and needs insecure.posProtocolV1.',
      ),
    insecure: z
      .object({
        posProtocolV1: z
          .boolean()
          .optional()
          .describe(
            'Acknowledges protocol: 1 on this till: anyone on the line can inject sales, voids and uploads (CRC only).',
          ),
      })
      .strict()
      .optional()
      .describe(
        'Acknowledged insecure settings of this till: logged at every start and shown on /api/status.',
      ),
  })
  .strict()
  .superRefine((terminal, ctx) => {
    if (terminal.protocol === 1 && terminal.insecure?.posProtocolV1 !== true) {
      ctx.addIssue({
        code: 'custom',
        path: ['protocol'],
        message:
          'protocol 1 has no terminal authentication (any device on the line can inject sales): use protocol 2, ' +
          'or, if this till cannot do v2 yet, acknowledge it with `insecure: { posProtocolV1: true }` on this terminal',
      });
    }
    if (terminal.protocol === 2 && terminal.insecure?.posProtocolV1 === true) {
      ctx.addIssue({
        code: 'custom',
        path: ['insecure', 'posProtocolV1'],
        message:
          'insecure.posProtocolV1 is acknowledged but not needed (this till runs protocol 2): remove it',
      });
    }
  });

const priceItemSchema = z
  .object({
    code: z.number().int().min(0).max(0xffff).describe('Item code 0..65535 the terminal sends in a sale.'),
    name: z
      .string()
      .refine((s) => Buffer.byteLength(s, 'utf8') <= 32, 'at most 32 UTF-8 bytes (10 Chinese characters)')
      .describe('Shown on the terminal screen.'),
    priceFen: z.number().int().min(0).max(0xffffffff).describe('Price in integer fen.'),
  })
  .strict();

export const canteenPosConfigSchema = z
  .object({
    port: z
      .object({
        path: portPath,
        baudRate: z.number().int().positive().default(9600).describe('Line speed set on the terminal.'),
      })
      .strict()
      .describe('The serial line the terminals hang on.'),
    mode: z
      .enum(['rs232', 'rs485'])
      .default('rs232')
      .describe('rs232: one terminal, full duplex. rs485: multidrop, the box polls each address in turn.'),
    terminals: z
      .array(terminalSchema)
      .min(1)
      .max(32)
      .describe('Terminals on this line: exactly one on rs232, up to 32 addresses on an rs485 bus.'),
    ackTimeoutMs: z
      .number()
      .int()
      .min(20)
      .max(5000)
      .default(300)
      .describe('How long the box waits for the first byte of an answer before it sends the frame again.'),
    maxTries: z.number().int().min(1).max(10).default(3).describe('Sends of one frame before giving up.'),
    pollIntervalMs: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .default(100)
      .describe('Pause after each polling round (every terminal polled once).'),
    silenceTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(3000)
      .describe('A terminal that has not answered for this long is reported down.'),
    interByteTimeoutMs: z
      .number()
      .int()
      .min(5)
      .max(5000)
      .default(100)
      .describe('An incomplete frame followed by this much line silence is dropped as truncated.'),
    decisionBudgetMs: z
      .number()
      .int()
      .min(10)
      .max(900)
      .default(500)
      .describe(
        "Time a decision may take, well inside the till's 1000 ms wait (at most 900). RS-485: the bus is held this long " +
          'for a decision, then polling moves on and the till gets the answer at its next poll. Slower decisions are logged.',
      ),
    decisionWaitMs: z
      .number()
      .optional()
      .describe('Replaced by decisionBudgetMs (protocol v2): refused with a pointer to it.'),
    timeSyncIntervalMs: z
      .number()
      .int()
      .min(1000)
      .default(3_600_000)
      .describe("How often the box sets each terminal's clock."),
    reconnect: reconnectSchema({
      initialDelayMs: 100,
      maxDelayMs: 10_000,
      first: 'First reopen delay after the port drops.',
      longest: 'Longest reopen delay.',
      what: 'Reopening a lost port',
    }),
    timezoneOffsetMinutes: z
      .number()
      .int()
      .min(-720)
      .max(840)
      .default(480)
      .describe('UTC offset of the local time the terminals display (480 = UTC+8).'),
    firmware: z
      .object({
        chunkBytes: z
          .number()
          .int()
          .min(64)
          .max(4060)
          .default(2048)
          .describe(
            'FW_DATA bytes per FW_CHUNK (docs/protocols/canteen-pos.md §13.6). On rs485 the box also caps a chunk so one frame holds the bus at most 250 ms.',
          ),
        activateTimeoutMs: z
          .number()
          .int()
          .min(100)
          .max(60_000)
          .default(10_000)
          .describe('How long the box waits for the ACK to FW_ACTIVATE while the till verifies the image.'),
        rebootTimeoutMs: z
          .number()
          .int()
          .min(1000)
          .max(600_000)
          .default(120_000)
          .describe(
            'How long a till may take to reboot and open a new session after FW_ACTIVATE or FW_ROLLBACK.',
          ),
        stallTimeoutMs: z
          .number()
          .int()
          .min(1000)
          .max(3_600_000)
          .default(120_000)
          .describe(
            'A transfer that makes no progress for this long (till away, link cut) ends as a retryable failure; it resumes where the till stopped.',
          ),
      })
      .strict()
      .default({
        chunkBytes: 2048,
        activateTimeoutMs: 10_000,
        rebootTimeoutMs: 120_000,
        stallTimeoutMs: 120_000,
      })
      .describe('Firmware delivery to v2 tills over this line (§13).'),
    priceList: z
      .object({
        version: z
          .number()
          .int()
          .min(0)
          .max(0xffffffff)
          .describe('Price list version; terminals download it when theirs differs.'),
        items: z.array(priceItemSchema).max(2000).describe('Menu items, at most 2000.'),
      })
      .strict()
      .optional()
      .describe('Menu the terminals download (PRICE_LIST); absent = version 0, no items.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.mode === 'rs232' && config.terminals.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['terminals'],
        message: `rs232 is point to point: exactly one terminal per port, got ${config.terminals.length}`,
      });
    }
    const seenAddress = new Map<number, number>();
    const seenId = new Map<string, number>();
    config.terminals.forEach((t, i) => {
      const a = seenAddress.get(t.address);
      if (a !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['terminals', i, 'address'],
          message: `address ${t.address} is already used by terminals[${a}]`,
        });
      }
      seenAddress.set(t.address, i);
      const d = seenId.get(t.id);
      if (d !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['terminals', i, 'id'],
          message: `id "${t.id}" is already used by terminals[${d}]`,
        });
      }
      seenId.set(t.id, i);
    });
    if (config.decisionWaitMs !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['decisionWaitMs'],
        message:
          "decisionWaitMs is replaced by decisionBudgetMs (default 500, at most 900: it must stay inside the till's 1000 ms wait); rename it",
      });
    }
    if (config.silenceTimeoutMs <= config.ackTimeoutMs * config.maxTries) {
      ctx.addIssue({
        code: 'custom',
        path: ['silenceTimeoutMs'],
        message: `must exceed ackTimeoutMs × maxTries (${config.ackTimeoutMs * config.maxTries} ms), or one lost poll would report the terminal down`,
      });
    }
  })
  .describe(
    'One serial line of canteen POS terminals. Besides the bounds below: rs232 carries exactly one terminal; ' +
      'addresses and ids are unique on a line; silenceTimeoutMs must exceed ackTimeoutMs × maxTries.',
  );

export type CanteenPosConfig = z.infer<typeof canteenPosConfigSchema>;
export type CanteenPosConfigInput = z.input<typeof canteenPosConfigSchema>;
export type CanteenPosTerminalConfig = CanteenPosConfig['terminals'][number];
