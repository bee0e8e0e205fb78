import type { FirmwareManifest } from '@sceneway/core';
import { describe, expect, it } from 'vitest';
import { checkFirmwareFits, type FirmwareTerminalInfo } from './check-fits.ts';

const manifest: FirmwareManifest = {
  format: 1,
  family: 'face-reader',
  models: ['FR-10', 'FR-12'],
  hardware: ['rev-b', 'rev-c'],
  version: '2.4.1',
  minPreviousVersion: '2.0.0',
  size: 1,
  chunkSize: 4096,
  sm3: '00'.repeat(32),
  chunks: ['00'.repeat(32)],
  releaseNotes: '',
  vendorKeyId: '11'.repeat(32),
  createdAt: '2026-12-01T12:00:00Z',
};
const reader: FirmwareTerminalInfo = {
  terminalId: 'gate-3',
  family: 'face-reader',
  model: 'FR-12',
  hardware: 'rev-c',
  version: '2.3.9',
};
const fit = (
  t: Partial<FirmwareTerminalInfo>,
  opts?: { rollbackTo?: boolean },
  m: Partial<FirmwareManifest> = {},
) => checkFirmwareFits({ ...manifest, ...m }, { ...reader, ...t }, opts)?.code ?? null;

describe('checkFirmwareFits', () => {
  it('takes what a driver describe() returns', () => {
    expect(checkFirmwareFits(manifest, reader)).toBeNull();
  });

  it('accepts an upgrade of a listed model and revision', () => {
    expect(fit({})).toBeNull();
    expect(fit({ version: '2.0.0' })).toBeNull();
    expect(fit({ hardware: 'anything' }, {}, { hardware: [] })).toBeNull();
  });

  it('refuses another family, an unlisted model, an unlisted hardware revision', () => {
    expect(fit({ family: 'onvif-camera' })).toBe('FW_WRONG_FAMILY');
    expect(fit({ model: 'FR-11' })).toBe('FW_WRONG_MODEL');
    expect(fit({ model: 'fr-12' })).toBe('FW_WRONG_MODEL');
    expect(fit({ hardware: 'rev-a' })).toBe('FW_WRONG_HARDWARE');
  });

  it('refuses a downgrade unless it is a rollback, and compares versions numerically', () => {
    expect(fit({ version: '2.10.0' })).toBe('FW_DOWNGRADE');
    expect(fit({ version: '2.4.2' })).toBe('FW_DOWNGRADE');
    expect(fit({ version: '2.4.2' }, { rollbackTo: true })).toBeNull();
    expect(fit({ version: '2.4.1' }, { rollbackTo: true })).toBe('FW_SAME_VERSION');
    expect(fit({ version: '2.4.1' })).toBe('FW_SAME_VERSION');
  });

  it('refuses a terminal below the minimum previous version (the upgrade path)', () => {
    expect(fit({ version: '1.9.9' })).toBe('FW_PREVIOUS_TOO_OLD');
    expect(fit({ version: '1.99.0' })).toBe('FW_PREVIOUS_TOO_OLD');
    const refusal = checkFirmwareFits(manifest, { ...reader, version: '1.9.9' });
    expect(refusal?.message).toBe('terminal gate-3 runs 1.9.9; 2.4.1 needs at least 2.0.0 first');
  });

  it('cannot judge a terminal that reports no version or a malformed one', () => {
    expect(fit({ version: null })).toBe('FW_VERSION_UNKNOWN');
    expect(fit({ version: '2.4' })).toBe('FW_VERSION_UNKNOWN');
    expect(fit({ version: '02.4.1' })).toBe('FW_VERSION_UNKNOWN');
  });
});
