import { describe, expect, it } from 'vitest';
import { ReplyCache } from './reply-cache.ts';

const entry = (seq: number, body: string, reply = `reply-${seq}-${body}`) => ({
  seq,
  command: 0x41,
  body: Buffer.from(body),
  reply: Promise.resolve(Buffer.from(reply)),
});

describe('reply cache', () => {
  it('finds a retransmission by seq, command and body only', async () => {
    const cache = new ReplyCache();
    cache.remember(entry(5, 'sale A'));
    expect(await cache.find(5, 0x41, Buffer.from('sale A'))?.reply).toEqual(Buffer.from('reply-5-sale A'));
    expect(cache.find(5, 0x42, Buffer.from('sale A'))).toBeUndefined();
    expect(cache.find(5, 0x41, Buffer.from('sale B'))).toBeUndefined();
    expect(cache.find(6, 0x41, Buffer.from('sale A'))).toBeUndefined();
  });

  it('replaces an entry whose seq is reused and forgets the oldest beyond capacity', () => {
    const cache = new ReplyCache(3);
    cache.remember(entry(1, 'a'));
    cache.remember(entry(1, 'b'));
    expect(cache.find(1, 0x41, Buffer.from('a'))).toBeUndefined();
    expect(cache.size).toBe(1);
    for (const seq of [2, 3, 4]) cache.remember(entry(seq, 'x'));
    expect(cache.size).toBe(3);
    expect(cache.find(1, 0x41, Buffer.from('b'))).toBeUndefined();
    expect(cache.find(4, 0x41, Buffer.from('x'))).toBeDefined();
  });
});
