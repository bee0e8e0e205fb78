import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { createReaderBindings } from './reader-bindings.ts';

const card = (uidHex: string) => ({ kind: 'card' as const, uidHex });

function bindings() {
  let now = 1_000_000;
  const b = createReaderBindings({
    bindings: [{ reader: 'r-1', till: 't-1', presentWithinMs: 30_000 }],
    now: () => now,
    logger: silentLogger,
  });
  const advance = (ms: number) => {
    now += ms;
  };
  return { b, advance };
}

describe('reader bindings', () => {
  it('hands the card read on a bound reader to its till once', () => {
    const { b } = bindings();
    expect(b.present('r-1', card('04A1B2C3'))).toEqual({ outcome: 'accepted', forTerminal: 't-1' });
    expect(b.take('t-1')).toEqual(card('04A1B2C3'));
    expect(b.take('t-1')).toBeUndefined();
  });

  it('lets a newer read replace an older one: the card in front of the till pays', () => {
    const { b } = bindings();
    b.present('r-1', card('04000001'));
    b.present('r-1', card('04000002'));
    expect(b.take('t-1')).toEqual(card('04000002'));
  });

  it('pays nothing with a read older than the window: a card left behind must not pay the next tray', () => {
    const { b, advance } = bindings();
    b.present('r-1', card('04A1B2C3'));
    advance(30_001);
    expect(b.take('t-1')).toBeUndefined();
  });

  it('ignores a reader that is bound to no till, and gives no till its card', () => {
    const { b } = bindings();
    expect(b.present('r-9', card('04A1B2C3'))).toMatchObject({ outcome: 'ignored' });
    expect(b.take('t-1')).toBeUndefined();
  });
});
