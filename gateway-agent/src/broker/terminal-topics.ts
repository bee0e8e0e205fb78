/**
 * The topic contract between the box and its MQTT terminals, and the ACL that enforces it. Pure: the
 * broker asks these questions for every CONNECT will, PUBLISH and SUBSCRIBE.
 *
 *   sceneway/t/<terminalId>/<subtopic>   everything of one terminal lives under its own prefix
 *
 * Within its prefix a terminal's driver declares, as data, which subtopics the terminal publishes
 * (events, status, replies) and which it subscribes to (the box's commands). The box alone publishes
 * to the subscribe side, so a terminal cannot forge commands to itself. Without a declaration the
 * terminal may publish anything except `cmd` and below, and subscribe to `cmd` only.
 *
 * A terminal can never see or write another terminal's topics: a compromised face reader must not be
 * able to open a gate or read a neighbour's events.
 */
export const TOPIC_ROOT = 'sceneway/t/';
const COMMAND_LEVEL = 'cmd';

export interface TerminalAcl {
  terminalId: string;
  /** Subtopic filters the terminal may publish to; default: all but the subscribe side. */
  publish?: readonly string[] | undefined;
  /** Subtopic filters the terminal may subscribe to (the box's commands); default ['cmd', 'cmd/#']. */
  subscribe?: readonly string[] | undefined;
}

const DEFAULT_SUBSCRIBE = [COMMAND_LEVEL, `${COMMAND_LEVEL}/#`];

export function terminalPrefix(terminalId: string): string {
  return `${TOPIC_ROOT}${terminalId}/`;
}

export function commandTopic(terminalId: string): string {
  return `${terminalPrefix(terminalId)}${COMMAND_LEVEL}`;
}

/** [MQTT-1.5.3] a UTF-8 string is at most 65,535 bytes. Terminal topics are far shorter. */
const MAX_TOPIC_BYTES = 1024;

/**
 * Whether a topic name or filter is a string the box accepts from a terminal. [MQTT-1.5.3-2] it must
 * not contain U+0000; [MQTT-1.5.3-1] it must be well-formed UTF-8, and mqtt-packet decodes what is
 * not into U+FFFD, so U+FFFD is refused too (no terminal topic needs it); the control characters
 * U+0001–U+001F and U+007F–U+009F, which the standard says SHOULD NOT appear, are refused as well.
 */
export function isValidTopicString(topic: string): boolean {
  if (topic.length === 0 || Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it refuses
  return !/[\u0000-\u001f\u007f-\u009f\ufffd]/.test(topic);
}

/** MQTT filter matching ([MQTT-4.7]): `+` is one level, a trailing `#` this level and all below. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

function subscribeSide(acl: TerminalAcl): readonly string[] {
  return acl.subscribe ?? DEFAULT_SUBSCRIBE;
}

/** Whether the box may publish to this subtopic of the terminal (only where the terminal listens). */
export function isCommandSubtopic(acl: TerminalAcl, subtopic: string): boolean {
  return subscribeSide(acl).some((filter) => topicMatches(filter, subtopic));
}

/**
 * The subtopic a terminal may publish to, or null when the topic is refused. The subscribe side belongs
 * to the box, so a terminal cannot forge commands to itself either.
 */
export function publishSubtopic(acl: TerminalAcl, topic: string): string | null {
  const prefix = terminalPrefix(acl.terminalId);
  // [MQTT-3.3.2-2] a PUBLISH topic name has no wildcard; the test below keeps it for every level.
  if (!isValidTopicString(topic) || !topic.startsWith(prefix)) return null;
  const subtopic = topic.slice(prefix.length);
  if (subtopic.length === 0 || /[#+]/.test(subtopic)) return null;
  if (isCommandSubtopic(acl, subtopic)) return null;
  if (acl.publish && !acl.publish.some((filter) => topicMatches(filter, subtopic))) return null;
  return subtopic;
}

/** A terminal subscribes to exactly its declared command filters: no wider wildcard, no $SYS, nobody else's. */
export function maySubscribe(acl: TerminalAcl, topicFilter: string): boolean {
  const prefix = terminalPrefix(acl.terminalId);
  if (!isValidTopicString(topicFilter) || !topicFilter.startsWith(prefix)) return false;
  const sub = topicFilter.slice(prefix.length);
  return subscribeSide(acl).some(
    (allowed) => allowed === sub || (!/[#+]/.test(sub) && topicMatches(allowed, sub)),
  );
}
