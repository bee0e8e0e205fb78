import { isValidTopicString, topicMatches } from './terminal-topics.ts';

/**
 * A service identity (broker.services): a program on the site LAN, such as a monitoring bridge, that
 * logs in like a terminal but is granted topics by the operator, as data, beyond a terminal's own
 * prefix. Its grants are whole topic filters; nothing is implied, so an empty grant grants nothing.
 */
export interface MqttService {
  username: string;
  passwordHash: string;
  publish: readonly string[];
  subscribe: readonly string[];
}

/** [MQTT-4.7.1] `#` only as the whole last level, `+` only as a whole level; a valid string. */
export function isValidTopicFilter(filter: string): boolean {
  if (!isValidTopicString(filter)) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    return !level.includes('+') || level === '+';
  });
}

/** A PUBLISH topic has no wildcard ([MQTT-3.3.2-2]) and must match one of the service's grants. */
export function serviceMayPublish(service: MqttService, topic: string): boolean {
  if (!isValidTopicString(topic) || /[#+]/.test(topic)) return false;
  return service.publish.some((filter) => topicMatches(filter, topic));
}

/** A subscription is a granted filter exactly, or a concrete topic inside one. */
export function serviceMaySubscribe(service: MqttService, filter: string): boolean {
  if (!isValidTopicFilter(filter)) return false;
  return service.subscribe.some(
    (allowed) => allowed === filter || (!/[#+]/.test(filter) && topicMatches(allowed, filter)),
  );
}
