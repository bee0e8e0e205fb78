import { canteenPosConfigSchema, canteenPosDriver } from '@sceneway/device-drivers';
import { describe, expect, it } from 'vitest';
import { silentLogger } from './logger.ts';
import { createTerminalBoard } from './terminal-board.ts';

describe('terminal board', () => {
  it("shows each till's POS protocol and insecure acknowledgement from its driver config, across up/down", () => {
    const board = createTerminalBoard(silentLogger);
    const config = canteenPosConfigSchema.parse({
      port: { path: '/dev/ttyS0' },
      mode: 'rs485',
      terminals: [
        { id: 'v2-till', address: 1 },
        { id: 'old-till', address: 2, protocol: 1, insecure: { posProtocolV1: true } },
      ],
    });
    const facts = canteenPosDriver.terminalFacts?.(config) ?? {};
    for (const id of canteenPosDriver.terminalIds(config)) board.expect(id, canteenPosDriver.id, facts[id]);
    board.record('canteen-pos', { type: 'TerminalStatus', terminalId: 'old-till', up: true });
    expect(board.list()).toEqual([
      {
        id: 'v2-till',
        driver: 'canteen-pos',
        up: false,
        detail: 'not heard yet',
        protocol: 2,
        insecure: false,
      },
      { id: 'old-till', driver: 'canteen-pos', up: true, protocol: 1, insecure: true },
    ]);
  });
});
