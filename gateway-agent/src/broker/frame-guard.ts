import type { Socket } from 'node:net';

/**
 * Packet size caps, enforced on the bytes before aedes parses them (issue #11: four sockets that never
 * logged in, each declaring a 250 MiB CONNECT, took the agent from 300 MiB to 1.1 GiB, because
 * mqtt-packet buffers a packet whole before it looks at it; aedes 1.x has no size option).
 *
 * The guard reads only MQTT fixed headers ([MQTT-2.2]: one type byte, then a remaining length of one
 * to four bytes) and skips bodies by counting: before login the first packet must be a CONNECT of at
 * most `preLoginBytes`, and so must anything queued behind it; after login every packet is capped at
 * `maxPacketBytes`. A packet over its cap, a malformed length or a first packet that is not CONNECT
 * destroys the socket after at most five bytes of its header were seen, before the body is buffered.
 *
 * It sits on `socket.read`, the one call through which aedes takes bytes from a connection
 * (lib/client.js, `conn.read(null)` on 'readable'), so aedes keeps the real socket (its address, TLS
 * facts) and nothing is copied.
 */
export interface FrameLimits {
  preLoginBytes: number;
  maxPacketBytes: number;
  /** Whether the connection has logged in (its cap is then maxPacketBytes). */
  loggedIn(): boolean;
  /** Called once, just before the socket is destroyed, with why. */
  onViolation(reason: FrameViolation, declaredBytes: number | null): void;
}

export type FrameViolation =
  | 'first_packet_not_connect'
  | 'pre_login_packet_too_large'
  | 'packet_too_large'
  | 'malformed_length';

const CONNECT = 1;

export function guardFrames(socket: Socket, limits: FrameLimits): void {
  let packets = 0;
  /** Where in the current packet's fixed header we are: 0 = expecting the type byte. */
  let headerBytes = 0;
  let remaining = 0;
  let multiplier = 1;
  let type = 0;
  /** Body bytes still to skip before the next fixed header. */
  let skip = 0;
  let violated = false;

  const violate = (reason: FrameViolation, declared: number | null) => {
    violated = true;
    limits.onViolation(reason, declared);
    socket.destroy();
  };

  const scan = (chunk: Buffer) => {
    let i = 0;
    while (i < chunk.length && !violated) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++]!;
      if (headerBytes === 0) {
        type = byte >> 4;
        if (packets === 0 && type !== CONNECT) return violate('first_packet_not_connect', null);
        headerBytes = 1;
        remaining = 0;
        multiplier = 1;
        continue;
      }
      remaining += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      headerBytes++;
      if (byte & 0x80) {
        // [MQTT-2.2.3] the remaining length has at most four bytes.
        if (headerBytes > 4) return violate('malformed_length', null);
        continue;
      }
      const before = packets === 0 || !limits.loggedIn();
      const cap = before ? limits.preLoginBytes : limits.maxPacketBytes;
      if (remaining > cap)
        return violate(before ? 'pre_login_packet_too_large' : 'packet_too_large', remaining);
      packets++;
      headerBytes = 0;
      skip = remaining;
    }
  };

  const read = socket.read.bind(socket);
  socket.read = (size?: number) => {
    if (violated) return null;
    const chunk: unknown = read(size);
    if (Buffer.isBuffer(chunk)) {
      scan(chunk);
      if (violated) return null;
    }
    return chunk;
  };
}
