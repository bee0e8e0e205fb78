import type { CredentialAnswer, PaymentCredential } from '@sceneway/device-drivers';
import type { Logger } from '../logger.ts';
import type { ReaderBinding } from './canteen-config.ts';

export interface ReaderBindings {
  /** A bound reader saw a card or QR code: it waits for its till's next sale. */
  present(readerId: string, credential: PaymentCredential): CredentialAnswer;
  /** The credential waiting for this till, removed so it pays exactly one sale. */
  take(tillId: string): PaymentCredential | undefined;
}

/**
 * Pairs separate readers (USB HID) with the tills they stand beside (`scenarios.canteen.readerBindings`).
 * A read waits for the till's next sale for `presentWithinMs`; a newer read replaces it (the diner
 * swiped again, or the next diner did), and a read older than the window pays nothing: a card left
 * on a reader must not pay for the next tray. Nothing here is durable on purpose: after a restart
 * the diner swipes again, which is what a till does too.
 */
export function createReaderBindings(options: {
  bindings: readonly ReaderBinding[];
  now(): number;
  logger: Logger;
}): ReaderBindings {
  const byReader = new Map(options.bindings.map((b) => [b.reader, b]));
  const waiting = new Map<string, { credential: PaymentCredential; at: number; windowMs: number }>();
  const unboundLogged = new Set<string>();
  return {
    present(readerId, credential) {
      const binding = byReader.get(readerId);
      if (!binding) {
        if (!unboundLogged.has(readerId)) {
          unboundLogged.add(readerId);
          options.logger.warn(
            { readerId },
            'canteen: a reader presented a card but is bound to no till (scenarios.canteen.readerBindings)',
          );
        }
        return { outcome: 'ignored', why: `reader ${readerId} is bound to no till` };
      }
      waiting.set(binding.till, { credential, at: options.now(), windowMs: binding.presentWithinMs });
      return { outcome: 'accepted', forTerminal: binding.till };
    },
    take(tillId) {
      const entry = waiting.get(tillId);
      if (!entry) return undefined;
      waiting.delete(tillId);
      return options.now() - entry.at <= entry.windowMs ? entry.credential : undefined;
    },
  };
}
