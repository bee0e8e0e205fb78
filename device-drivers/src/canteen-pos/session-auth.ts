import { randomBytes } from 'node:crypto';
import type { TerminalKey } from '../driver-api.ts';
import { DriverError } from '../driver-error.ts';
import {
  boxProof,
  MAX_MAC_COUNTER,
  openFrame,
  type SessionKeys,
  sameBytes,
  sealFrame,
  sessionKeys,
  terminalProof,
} from './frame-mac.ts';
import { NONCE_BYTES, type PosMessageOf, PROTOCOL_V2 } from './messages.ts';

/**
 * The box's side of one v2 till's session (pos-v2-contract.md, Session): the mutual challenge, the
 * session keys it derives, and the per-direction MAC counters. Pure state, no I/O and no timers: the
 * driver ends a session when the terminal goes down, the port reopens or the driver restarts.
 *
 * Two rules carry the security: the box's old session stays valid until a new one is CONFIRMED (a
 * stranger's SESSION_OPEN cannot end a working session), and a challenge is spent by the first CONFIRM,
 * right or wrong (one guess per challenge, and a fresh Nb each time).
 */
export type AuthRefusalCode = 'POS_SESSION_REQUIRED' | 'POS_MAC_INVALID' | 'POS_REPLAYED' | 'POS_AUTH_FAILED';

export interface AuthRefusal {
  code: AuthRefusalCode;
  nak: 'SESSION_REQUIRED' | 'MAC_INVALID' | 'REPLAYED' | 'AUTH_FAILED';
  detail: string;
}

const refuse = (code: AuthRefusalCode, detail: string): AuthRefusal => ({
  code,
  nak: code.slice('POS_'.length) as AuthRefusal['nak'],
  detail,
});

/** One confirmed session: its keys and the counters of both directions. */
export interface SessionChannel {
  /** Seals a box → terminal frame under K_bt with the next counter. Throws once the counter is spent. */
  seal(seq: number, command: number, fields: Uint8Array): Buffer;
  readonly isCurrent: boolean;
}

interface Active {
  keys: SessionKeys;
  keyVersion: number;
  /** Last MAC_COUNTER accepted from the till (0: none yet). */
  rx: number;
  /** Last MAC_COUNTER the box sent (0: none yet). */
  tx: number;
  ended: boolean;
}

interface Challenge {
  key: Uint8Array;
  keyVersion: number;
  nt: Buffer;
  nb: Buffer;
}

export class SessionAuth {
  private active: Active | null = null;
  private challenge: Challenge | null = null;
  private confirmed = 0;

  constructor(
    readonly address: number,
    private readonly keys: () => readonly TerminalKey[],
    private readonly random: (bytes: number) => Buffer = randomBytes,
  ) {}

  get isOpen(): boolean {
    return this.active !== null;
  }

  /** How many sessions have been confirmed: a firmware job waits for a newer one after the till rebooted. */
  get generation(): number {
    return this.confirmed;
  }

  /** The key version of the confirmed session, for the logs. */
  get keyVersion(): number | undefined {
    return this.active?.keyVersion;
  }

  /** SESSION_OPEN → the SESSION_CHALLENGE to send, or AUTH_FAILED. A pending challenge is replaced; the open session is not touched. */
  open(msg: PosMessageOf<'session-open'>): PosMessageOf<'session-challenge'> | AuthRefusal {
    if (msg.protocolVersion !== PROTOCOL_V2) {
      return refuse(
        'POS_AUTH_FAILED',
        `SESSION_OPEN names protocol ${msg.protocolVersion}, not ${PROTOCOL_V2}`,
      );
    }
    const held = this.keys().find((k) => k.version === msg.keyVersion);
    if (!held) {
      const versions = this.keys().map((k) => k.version);
      return refuse(
        'POS_AUTH_FAILED',
        versions.length === 0
          ? 'SESSION_OPEN from a till with no provisioned key'
          : `SESSION_OPEN with KEY_VERSION ${msg.keyVersion}; the box holds ${versions.join(', ')}`,
      );
    }
    const nb = this.random(NONCE_BYTES);
    const nt = Buffer.from(msg.nonce);
    this.challenge = { key: held.key, keyVersion: held.version, nt, nb };
    return { type: 'session-challenge', nonce: nb, proof: boxProof(held.key, this.address, nt, nb) };
  }

  /** SESSION_CONFIRM → the session is open (ACK), or AUTH_FAILED. Spends the challenge either way. */
  confirm(msg: PosMessageOf<'session-confirm'>): AuthRefusal | null {
    const challenge = this.challenge;
    this.challenge = null;
    if (!challenge) return refuse('POS_AUTH_FAILED', 'SESSION_CONFIRM with no challenge outstanding');
    const expected = terminalProof(challenge.key, this.address, challenge.nt, challenge.nb);
    if (!sameBytes(msg.proof, expected)) {
      return refuse('POS_AUTH_FAILED', 'SESSION_CONFIRM proof does not verify: the till has another key');
    }
    if (this.active) this.active.ended = true;
    this.confirmed++;
    this.active = {
      keys: sessionKeys(challenge.key, this.address, challenge.nt, challenge.nb),
      keyVersion: challenge.keyVersion,
      rx: 0,
      tx: 0,
      ended: false,
    };
    return null;
  }

  /**
   * The box's checks on a MAC'd frame from the till, in the contract's order: a session, then the MAC
   * fields and the MAC, then the counter. On success the counter is consumed and the message's own
   * fields (without MAC_COUNTER and MAC) are returned with the channel to seal the answer on.
   */
  check(frame: {
    address: number;
    seq: number;
    command: number;
    body: Buffer;
  }): { fields: Buffer; channel: SessionChannel } | AuthRefusal {
    const active = this.active;
    if (!active) return refuse('POS_SESSION_REQUIRED', 'a MAC frame arrived with no session open');
    const opened = openFrame(active.keys.toBox, frame);
    if (!opened.ok) return refuse('POS_MAC_INVALID', opened.detail);
    if (opened.counter <= active.rx) {
      return refuse(
        'POS_REPLAYED',
        `MAC_COUNTER ${opened.counter} is not above the last accepted ${active.rx}: a replayed or reordered frame`,
      );
    }
    active.rx = opened.counter;
    return { fields: opened.fields, channel: this.channelOf(active) };
  }

  /** The channel of the open session (box-initiated MAC'd frames: TIME_SYNC), or null. */
  channel(): SessionChannel | null {
    return this.active ? this.channelOf(this.active) : null;
  }

  /** Ends the session and any pending challenge: terminal down, port reopened, driver restarted. */
  end(): void {
    if (this.active) this.active.ended = true;
    this.active = null;
    this.challenge = null;
  }

  private channelOf(active: Active): SessionChannel {
    return {
      get isCurrent() {
        return !active.ended;
      },
      seal: (seq, command, fields) => {
        if (active.tx >= MAX_MAC_COUNTER) {
          // Never wrap: counter 1 again would let every old frame of this session be replayed.
          if (this.active === active) this.end();
          throw new DriverError(
            'POS_SESSION_REQUIRED',
            'the box MAC counter of this session is spent; the till must open a new session',
          );
        }
        active.tx += 1;
        return sealFrame({
          key: active.keys.toTerminal,
          address: this.address,
          seq,
          command,
          fields,
          counter: active.tx,
        });
      },
    };
  }

  /** Tests: jump a counter to its end, to show the box refuses to wrap. */
  exhaustCountersForTest(): void {
    if (this.active) {
      this.active.tx = MAX_MAC_COUNTER;
      this.active.rx = MAX_MAC_COUNTER;
    }
  }
}
