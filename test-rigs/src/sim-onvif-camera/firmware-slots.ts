import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The camera's two firmware slots: it runs one and flashes the other, and boots the flashed one only
 * if that image comes up (else it falls back to the slot it ran). Kept in a file under the camera's
 * state dir when it has one, so a restarted simulator is still the camera it was (the e2e restarts
 * processes). Only what the camera reports is kept, never the image bytes.
 */
export type SlotName = 'A' | 'B';

export interface SlotImage {
  version: string;
  /** The image's manifest signature verified against a pinned vendor key when it was flashed. */
  signed: boolean;
  sm3: string | null;
  flashedAt: string;
}

export interface SlotState {
  active: SlotName;
  slots: Record<SlotName, SlotImage | null>;
  /** How the running image came to run: from the factory, a new image booted, or a fall back. */
  lastBoot: 'factory' | 'new-image' | 'fell-back';
  /** The slot flashed and waiting for the next boot, if any. */
  pending: SlotName | null;
}

const FILE = 'firmware-slots.json';

export class FirmwareSlots {
  private state: SlotState;

  constructor(
    private readonly stateDir: string | undefined,
    factory: SlotImage,
  ) {
    this.state = this.load() ?? {
      active: 'A',
      slots: { A: factory, B: null },
      lastBoot: 'factory',
      pending: null,
    };
  }

  get snapshot(): SlotState {
    return structuredClone(this.state);
  }

  running(): SlotImage {
    return this.state.slots[this.state.active] as SlotImage;
  }

  /** The versions in its two slots: what it runs and what it ran before (or was offered last). */
  versions(): string[] {
    return [this.state.slots.A?.version, this.state.slots.B?.version].filter((v): v is string => !!v);
  }

  /** A verified image is written to the slot not running; it runs from the next boot, if it boots. */
  flash(image: SlotImage): SlotName {
    const target: SlotName = this.state.active === 'A' ? 'B' : 'A';
    this.state.slots[target] = image;
    this.state.pending = target;
    this.save();
    return target;
  }

  /** A power cycle: the pending slot boots unless `bootFails`, in which case the old one runs on. */
  boot(bootFails: boolean): void {
    const pending = this.state.pending;
    if (!pending) return;
    this.state.pending = null;
    if (bootFails) this.state.lastBoot = 'fell-back';
    else {
      this.state.active = pending;
      this.state.lastBoot = 'new-image';
    }
    this.save();
  }

  private load(): SlotState | null {
    if (!this.stateDir) return null;
    try {
      return JSON.parse(readFileSync(join(this.stateDir, FILE), 'utf8')) as SlotState;
    } catch {
      return null;
    }
  }

  private save(): void {
    if (!this.stateDir) return;
    mkdirSync(this.stateDir, { recursive: true });
    const path = join(this.stateDir, FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify(this.state, null, 2));
    renameSync(`${path}.tmp`, path);
  }
}
