/**
 * The topic contract between the box and its MQTT terminals, and the ACL that enforces it. Pure: the
 * broker asks these questions for every CONNECT will, PUBLISH and SUBSCRIBE.
 *
 *   sceneway/t/<terminalId>/<anything>   the terminal reports (events, status, replies)
 *   sceneway/t/<terminalId>/cmd          the box commands the terminal; only the box publishes here
 *
 * A terminal can never see or write another terminal's topics: a compromised face reader must not be
 * able to open a gate or read a neighbour's events.
 */
export const TOPIC_ROOT = 'sceneway/t/';
const COMMAND_LEVEL = 'cmd';

export function terminalPrefix(terminalId: string): string {
  return `${TOPIC_ROOT}${terminalId}/`;
}

export function commandTopic(terminalId: string): string {
  return `${terminalPrefix(terminalId)}${COMMAND_LEVEL}`;
}

/**
 * The subtopic a terminal may publish to, or null when the topic is refused. The command level and
 * everything below it belong to the box, so a terminal cannot forge commands to itself either.
 */
export function publishSubtopic(terminalId: string, topic: string): string | null {
  const prefix = terminalPrefix(terminalId);
  if (!topic.startsWith(prefix)) return null;
  const subtopic = topic.slice(prefix.length);
  if (subtopic.length === 0 || /[#+]/.test(subtopic)) return null;
  if (subtopic === COMMAND_LEVEL || subtopic.startsWith(`${COMMAND_LEVEL}/`)) return null;
  return subtopic;
}

/** A terminal subscribes to exactly its own command topic: no wildcards, no $SYS, nobody else's. */
export function maySubscribe(terminalId: string, topicFilter: string): boolean {
  return topicFilter === commandTopic(terminalId);
}
