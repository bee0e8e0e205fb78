import { describe, expect, it } from 'vitest';
import { createTransportEvents } from './transport-events.ts';

describe('createTransportEvents', () => {
  it('keeps bytes that arrive before the consumer, in order, and drops bytes after close', () => {
    const events = createTransportEvents();
    events.pushData(Buffer.from('a'));
    events.pushData(Buffer.from('b'));
    const got: string[] = [];
    events.onData((b) => got.push(b.toString()));
    events.pushData(Buffer.from('c'));
    events.close(null);
    events.pushData(Buffer.from('d'));
    expect(got).toEqual(['a', 'b', 'c']);
  });

  it('closes once, runs onClosing before any listener, and tells a late listener too', async () => {
    const order: string[] = [];
    const events = createTransportEvents({ onClosing: (e) => order.push(`closing:${e?.message}`) });
    events.onClose((e) => order.push(`listener:${e?.message}`));
    events.close(new Error('unplugged'));
    events.close(new Error('again'));
    expect(events.closed).toBe(true);
    const late = await new Promise<Error | null>((resolve) => events.onClose(resolve));
    expect(late?.message).toBe('unplugged');
    expect(order).toEqual(['closing:unplugged', 'listener:unplugged']);
  });
});
