import type { SaleDecision, TerminalEvent } from '@sceneway/device-drivers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEventRouter, type RunningScenario } from './event-router.ts';

const sale = (terminalId: string): TerminalEvent => ({
  type: 'SaleRequested',
  terminalId,
  sale: {
    receiptNo: 1,
    amountFen: 100,
    credential: { kind: 'card', uidHex: '04A1B2C3' },
    terminalTime: 0,
    offline: false,
  },
});

function scenario(id: string, answer: SaleDecision): RunningScenario {
  return {
    definition: {
      id,
      configSchema: z.object({}),
      handles: ['SaleRequested'],
      create: () => ({ handlers: {} }),
    },
    instance: { handlers: { SaleRequested: async () => answer } },
  };
}

const approve: SaleDecision = { outcome: 'approved' };
const decline: SaleDecision = { outcome: 'declined', reason: 'BLACKLISTED', displayText: 'no' };

describe('event router', () => {
  it('routes an event to the one scenario that handles its type, and reports the reply', async () => {
    const replied: unknown[] = [];
    const router = createEventRouter({
      scenarios: [scenario('canteen', approve)],
      onReplied: (_e, r) => replied.push(r),
    });
    const submit = router.submitterFor(0, undefined, ['SaleRequested', 'TerminalStatus']);
    expect(await submit(sale('till-1'))).toEqual(approve);
    expect(replied).toEqual([approve]);
  });

  it('refuses at start, naming the field, when two scenarios decide the same event and none is named', () => {
    const router = createEventRouter({
      scenarios: [scenario('canteen', approve), scenario('kiosk', decline)],
    });
    expect(() => router.submitterFor(2, undefined, ['SaleRequested'])).toThrow(
      /drivers\[2\]\.scenario: scenarios canteen and kiosk both decide SaleRequested/,
    );
    const named = router.submitterFor(2, 'kiosk', ['SaleRequested']);
    return expect(named(sale('till-1'))).resolves.toEqual(decline);
  });

  it('refuses at start an event type no scenario decides, and a scenario that does not run', () => {
    const router = createEventRouter({ scenarios: [scenario('canteen', approve)] });
    expect(() => router.submitterFor(0, undefined, ['PlateSighted'])).toThrow(
      /no scenario decides PlateSighted/,
    );
    expect(() => router.submitterFor(1, 'parking', ['SaleRequested'])).toThrow(
      /drivers\[1\]\.scenario: no scenario "parking"/,
    );
  });

  it('rejects an event the driver did not declare, and answers status events without a scenario', async () => {
    const seen: string[] = [];
    const router = createEventRouter({
      scenarios: [scenario('canteen', approve)],
      onAgentEvent: (e, driverIndex) => seen.push(`${e.type} from drivers[${driverIndex}]`),
    });
    const submit = router.submitterFor(3, undefined, ['TerminalStatus']);
    await expect(submit(sale('till-1'))).rejects.toMatchObject({ code: 'SCENARIO_UNHANDLED' });
    await expect(submit({ type: 'TerminalStatus', terminalId: 'till-1', up: true })).resolves.toBeUndefined();
    expect(seen).toEqual(['TerminalStatus from drivers[3]']);
  });
});
