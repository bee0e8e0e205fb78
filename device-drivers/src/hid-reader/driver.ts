import { fullJitterDelay, maskCredential, sleep } from '@sceneway/core';
import type { DriverContext, DriverInstance, PaymentCredential, TerminalEventOf } from '../driver-api.ts';
import { DriverError } from '../driver-error.ts';
import type { HidEndpoint, Transport } from '../transport.ts';
import { credentialFromText } from './credential-text.ts';
import { createKeyboardWedgeDecoder } from './keyboard-wedge.ts';
import type { HidReaderConfig } from './schema.ts';
import { decodeVendorReport } from './vendor-report.ts';

/**
 * One USB HID reader. The reader has no screen and no till of its own: each read becomes a
 * `CredentialPresented` event that the agent pairs with a till. Hotplug: while the reader is absent
 * the driver polls the device list (each open looks the device up) with exponential backoff and full
 * jitter; when it is unplugged the transport closes, the terminal is reported down, and polling
 * starts again, so a reader that reappears (same or another USB socket) is back up by itself.
 * terminal-up/down are emitted on transitions only, so a reader away for an hour is one event.
 */
const errorCode = (e: unknown) => (e instanceof DriverError ? e.code : 'HID_FAILED');
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function createHidReaderSession(ctx: DriverContext, config: HidReaderConfig): DriverInstance {
  const terminalId = config.id;
  const endpoint: HidEndpoint = {
    kind: 'hid',
    vendorId: config.vendorId,
    productId: config.productId,
    serialNumber: config.serialNumber,
  };
  const policy = { initialDelayMs: config.reconnect.initialDelayMs, maxDelayMs: config.reconnect.maxDelayMs };
  const wedge = createKeyboardWedgeDecoder({ idleResetMs: config.idleResetMs });
  let abort: AbortController | null = null;
  let loop: Promise<void> | null = null;
  let current: Transport | null = null;

  const report = (event: TerminalEventOf<'TerminalStatus' | 'FrameRejected'>) => {
    ctx
      .submit(event)
      .catch((error: unknown) =>
        ctx.logger.error({ terminalId, err: errorText(error) }, 'hid reader: status event refused'),
      );
  };
  const frameError = (code: string, detail: string) => {
    ctx.logger.warn({ terminalId, code }, detail);
    report({ type: 'FrameRejected', terminalId, code, detail });
  };
  const present = (credential: PaymentCredential) => {
    ctx.logger.debug({ terminalId, credential: maskCredential(credential) }, 'hid reader: credential read');
    // The scenario pairs the read with a till (a binding); an unbound reader is logged there, not here.
    ctx.submit({ type: 'CredentialPresented', terminalId, credential }).catch((error: unknown) => {
      ctx.logger.warn({ terminalId, err: errorText(error) }, 'hid reader: the read was not taken');
    });
  };

  function onReport(report: Buffer): void {
    try {
      if (config.format === 'vendor') {
        present({ kind: 'card', uidHex: decodeVendorReport(report).uidHex });
        return;
      }
      for (const out of wedge.push(report, ctx.clock.now())) {
        if (out.kind === 'discarded') {
          frameError('HID_WEDGE_DISCARDED', `${out.length} typed characters dropped (${out.why})`);
          continue;
        }
        try {
          present(credentialFromText(out.text, config.cardText));
        } catch (error) {
          frameError(errorCode(error), errorText(error));
        }
      }
    } catch (error) {
      // Decoders only throw DriverError; anything else is our bug, reported rather than thrown into node-hid.
      frameError(errorCode(error), errorText(error));
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    // terminal-down is an event of the transition (first failure, or up → down); while the reader stays
    // away, a changed reason (absent → busy) is logged for the installer, not emitted again.
    let state: 'unknown' | 'up' | 'down' = 'unknown';
    let lastReason = '';
    let attempt = 0;
    const down = (reason: string) => {
      if (state === 'down') {
        if (reason !== lastReason) ctx.logger.warn({ terminalId, reason }, 'hid reader still down');
      } else {
        ctx.logger.warn({ terminalId, reason }, 'hid reader down');
        report({ type: 'TerminalStatus', terminalId, up: false, detail: reason });
      }
      state = 'down';
      lastReason = reason;
    };
    while (!signal.aborted) {
      let transport: Transport;
      try {
        transport = await ctx.transports.open(endpoint, signal);
      } catch (error) {
        if (signal.aborted) break;
        down(`${errorCode(error)}: ${errorText(error)}`);
        if (!(await sleep(fullJitterDelay(policy, ++attempt), signal))) break;
        continue;
      }
      attempt = 0;
      current = transport;
      const closed = new Promise<Error | null>((resolve) => transport.onClose(resolve));
      wedge.reset();
      transport.onData(onReport);
      state = 'up';
      ctx.logger.info({ terminalId }, 'hid reader up');
      report({ type: 'TerminalStatus', terminalId, up: true, detail: `USB HID ${config.format} reader` });
      const error = await closed;
      current = null;
      if (signal.aborted) break;
      down(error ? `${errorCode(error)}: ${errorText(error)}` : 'HID_CLOSED: the device closed');
      if (!(await sleep(fullJitterDelay(policy, ++attempt), signal))) break;
    }
    if (state === 'up') report({ type: 'TerminalStatus', terminalId, up: false, detail: 'driver stopped' });
  }

  return {
    async start() {
      if (loop || ctx.signal.aborted) return;
      const controller = new AbortController();
      abort = controller;
      ctx.signal.addEventListener('abort', () => controller.abort(), { once: true });
      loop = run(controller.signal).catch((error: unknown) => {
        ctx.logger.error({ terminalId, err: errorText(error) }, 'hid reader loop failed');
      });
    },
    async stop() {
      if (!loop) return;
      abort?.abort();
      await current?.close();
      await loop;
      loop = null;
      abort = null;
    },
  };
}
