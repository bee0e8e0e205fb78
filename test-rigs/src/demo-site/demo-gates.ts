import { hashPassword } from '@sceneway/gateway-agent';
import { type SimReader, startSimReader } from '../sim-face-reader/sim-reader.ts';
import { pause } from './pause.ts';

/**
 * The demo site's campus gate: an entry and an exit face reader (sim-face-reader, real mqtt.js clients)
 * that log in to the agent's embedded broker, the face-reader driver entry with their logins, and
 * `scenarios.gates` for one zone with anti-passback. A scripted round of people: a staff member who
 * goes in (and is refused going in again until they came out), a contractor whose window is another
 * weekday, and a face that matches no one. Each line prints what the agent answered, not what the
 * script expected: a second start may find the staff member still inside from the first.
 */
export const GATE_READERS = [
  { id: 'campus-gate-in', direction: 'in' },
  { id: 'campus-gate-out', direction: 'out' },
] as const;
const ZONE = 'campus';
const STAFF = 'EMP-0001';
const CONTRACTOR = 'CON-0001';
// Demo-only reader passwords; a site stores only the hash (`sceneway broker hash-password`).
const password = (id: string) => `demo-reader-only-${id}`;

export interface DemoGates {
  drivers: Array<{ driver: string; scenario: string; config: Record<string, unknown> }>;
  /** `scenarios.gates`: one zone, staff all week, a contractor on a day that is not today. */
  scenario: Record<string, unknown>;
  /** Logs the readers in to the broker at `url` and plays the round until `signal` aborts. */
  play(options: { url: string; log(line: string): void; signal: AbortSignal }): Promise<void>;
  stop(): Promise<void>;
}

export function demoGates(today: Date = new Date()): DemoGates {
  // Access windows are read in the site's time zone; a weekday two away from today is never "now".
  const isoToday = isoWeekdayIn('Asia/Shanghai', today);
  const otherDay = ((isoToday + 2) % 7) + 1;
  const readers: SimReader[] = [];
  return {
    drivers: [
      {
        driver: 'face-reader',
        scenario: 'gates',
        config: {
          readers: GATE_READERS.map((r) => ({
            id: r.id,
            username: r.id,
            passwordHash: hashPassword(password(r.id)),
          })),
        },
      },
    ],
    scenario: {
      timezone: 'Asia/Shanghai',
      zones: [{ id: ZONE, antiPassback: true }],
      readers: GATE_READERS.map((r) => ({ reader: r.id, zone: ZONE, direction: r.direction })),
      groups: [
        { id: 'staff', windows: [{ from: '00:00', to: '24:00' }] },
        { id: 'contractors', windows: [{ days: [otherDay], from: '00:00', to: '24:00' }] },
      ],
      persons: [
        { id: STAFF, group: 'staff' },
        { id: CONTRACTOR, group: 'contractors' },
      ],
    },
    async play({ url, log, signal }) {
      for (const r of GATE_READERS) {
        readers.push(await startSimReader({ url, readerId: r.id, username: r.id, password: password(r.id) }));
      }
      const [entry, exit] = readers as [SimReader, SimReader];
      const pass = async (reader: SimReader, who: string, personId: string | null) => {
        // A stop does not wait for the answer to a recognition still in flight.
        let onAbort: () => void = () => {};
        const aborted = new Promise<null>((resolve) => {
          onAbort = () => resolve(null);
          signal.addEventListener('abort', onAbort, { once: true });
        });
        const answer = await Promise.race([reader.recognize({ personId }), aborted]);
        signal.removeEventListener('abort', onAbort);
        if (!answer) return;
        const said = answer.action === 'open' ? 'gate opened' : `denied ${answer.reason ?? ''}`.trim();
        log(`gates: ${who} at ${reader.readerId}: ${said}`);
      };
      const round: Array<[SimReader, string, string | null]> = [
        [entry, 'a staff member', STAFF],
        [entry, 'the same staff member again (no exit between)', STAFF],
        [entry, 'a contractor (window is another weekday)', CONTRACTOR],
        [entry, 'a face that matches no one', null],
        [exit, 'the staff member', STAFF],
      ];
      for (let i = 0; !signal.aborted; i++) {
        const [reader, who, personId] = round[i % round.length] as [SimReader, string, string | null];
        await pass(reader, who, personId);
        if (!(await pause(i % round.length === round.length - 1 ? 6000 : 1500, signal))) break;
      }
    },
    async stop() {
      for (const r of readers.splice(0)) await r.close();
    },
  };
}

function isoWeekdayIn(timeZone: string, at: Date): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short' }).format(at);
  return ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(name) + 1;
}
