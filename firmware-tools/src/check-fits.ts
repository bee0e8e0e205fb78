import {
  compareFirmwareVersions,
  type FirmwareManifest,
  type FirmwareTerminalInfo,
  isFirmwareVersion,
} from '@sceneway/core';

export type { FirmwareTerminalInfo };

export type FirmwareFitCode =
  | 'FW_WRONG_FAMILY'
  | 'FW_WRONG_MODEL'
  | 'FW_WRONG_HARDWARE'
  | 'FW_VERSION_UNKNOWN'
  | 'FW_SAME_VERSION'
  | 'FW_DOWNGRADE'
  | 'FW_PREVIOUS_TOO_OLD';

export interface FirmwareFitRefusal {
  code: FirmwareFitCode;
  message: string;
}

export interface FirmwareFitOptions {
  /**
   * The campaign is putting a terminal back on the image it ran before (a failed health gate): that one
   * downgrade is allowed. Every other check still applies.
   */
  rollbackTo?: boolean;
}

/**
 * Whether a verified image may go to a terminal, in the order the doc lists: family, model, hardware
 * revision, then versions (same, downgrade, the upgrade path's minimum). `null` when it fits.
 * Anti-rollback (004-style) lives here, on the box, before any byte is sent; terminals check again.
 */
export function checkFirmwareFits(
  manifest: FirmwareManifest,
  terminal: FirmwareTerminalInfo,
  opts: FirmwareFitOptions = {},
): FirmwareFitRefusal | null {
  const who = `terminal ${terminal.terminalId}`;
  if (terminal.family !== manifest.family)
    return refuse('FW_WRONG_FAMILY', `${who} is a ${terminal.family}; the image is for ${manifest.family}`);
  if (!manifest.models.includes(terminal.model))
    return refuse(
      'FW_WRONG_MODEL',
      `${who} is model ${JSON.stringify(terminal.model)}; the image is for ${manifest.models.join(', ')}`,
    );
  if (manifest.hardware.length > 0 && !manifest.hardware.includes(terminal.hardware))
    return refuse(
      'FW_WRONG_HARDWARE',
      `${who} is hardware revision ${JSON.stringify(terminal.hardware)}; the image runs on ${manifest.hardware.join(', ')}`,
    );
  const running = terminal.version;
  if (running === null)
    return refuse('FW_VERSION_UNKNOWN', `${who} has not reported its running version (unreachable?)`);
  if (!isFirmwareVersion(running))
    return refuse(
      'FW_VERSION_UNKNOWN',
      `${who} reports version ${JSON.stringify(running)}, which is not M.m.p`,
    );
  const order = compareFirmwareVersions(manifest.version, running);
  if (order === 0) return refuse('FW_SAME_VERSION', `${who} already runs ${running}`);
  if (order < 0 && !opts.rollbackTo)
    return refuse('FW_DOWNGRADE', `${who} runs ${running}; the image is the older ${manifest.version}`);
  if (compareFirmwareVersions(running, manifest.minPreviousVersion) < 0)
    return refuse(
      'FW_PREVIOUS_TOO_OLD',
      `${who} runs ${running}; ${manifest.version} needs at least ${manifest.minPreviousVersion} first`,
    );
  return null;
}

function refuse(code: FirmwareFitCode, message: string): FirmwareFitRefusal {
  return { code, message };
}
