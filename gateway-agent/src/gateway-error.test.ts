import { SyncError } from '@sceneway/cloud-sync';
import { SceneError } from '@sceneway/core';
import { DriverError } from '@sceneway/device-drivers';
import { describe, expect, it } from 'vitest';
import { GatewayError, isGatewayError } from './gateway-error.ts';

describe('the error family', () => {
  it('shares one base, keeps each layer its name, and carries code, hint and cause', () => {
    const cause = new Error('disk');
    const errors = [
      new GatewayError('LEDGER_WRITE', 'writing failed', 'check the disk', { cause }),
      new SyncError('SYNC_BUILD', 'building failed', 'see the log', { cause }),
      new DriverError('SERIAL_WRITE_FAILED', 'port closed', { cause }),
    ];
    expect(errors.map((e) => [e instanceof SceneError, e.name, e.code, e.hint, e.cause])).toEqual([
      [true, 'GatewayError', 'LEDGER_WRITE', 'check the disk', cause],
      [true, 'SyncError', 'SYNC_BUILD', 'see the log', cause],
      [true, 'DriverError', 'SERIAL_WRITE_FAILED', undefined, cause],
    ]);
    expect(isGatewayError(errors[0], 'LEDGER_WRITE')).toBe(true);
    expect(isGatewayError(errors[1])).toBe(false);
  });

  it('refuses, at compile time, a code its layer does not list (tsc fails if these lines compile)', () => {
    // @ts-expect-error not a listed code
    const unknown = new GatewayError('LEDGER_SOMETHING_NEW', 'x');
    // @ts-expect-error a sync code is not a gateway code
    const wrongLayer = new GatewayError('SYNC_BUILD', 'x');
    // @ts-expect-error not a listed code
    const unknownSync = new SyncError('SYNC_WHATEVER', 'x');
    // @ts-expect-error a gateway code is not a driver code
    const wrongDriver = new DriverError('LEDGER_WRITE', 'x');
    expect([unknown, wrongLayer, unknownSync, wrongDriver].every((e) => e instanceof SceneError)).toBe(true);
  });
});
