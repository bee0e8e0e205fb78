import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commandTopic,
  maySubscribe as maySubscribeAcl,
  publishSubtopic as publishSubtopicAcl,
  terminalPrefix,
  topicMatches,
} from './terminal-topics.ts';

// The default ACL (no declaration): the broker's behaviour for a terminal whose driver declares none.
const publishSubtopic = (terminalId: string, topic: string) => publishSubtopicAcl({ terminalId }, topic);
const maySubscribe = (terminalId: string, filter: string) => maySubscribeAcl({ terminalId }, filter);

describe('terminal topic ACL', () => {
  it('lets a terminal publish under its own prefix, except to the command subtree', () => {
    expect(publishSubtopic('face-1', 'sceneway/t/face-1/status')).toBe('status');
    expect(publishSubtopic('face-1', 'sceneway/t/face-1/events/match')).toBe('events/match');
    expect(publishSubtopic('face-1', 'sceneway/t/face-1/cmdack')).toBe('cmdack');
    expect(publishSubtopic('face-1', 'sceneway/t/face-1/cmd')).toBeNull();
    expect(publishSubtopic('face-1', 'sceneway/t/face-1/cmd/reply')).toBeNull();
    expect(publishSubtopic('face-1', 'sceneway/t/face-1/')).toBeNull();
    expect(publishSubtopic('face-1', 'sceneway/t/face-1')).toBeNull();
    expect(publishSubtopic('face-1', 'sceneway/t/face-10/status')).toBeNull();
    expect(publishSubtopic('face-1', 'sceneway/t/face-2/status')).toBeNull();
    expect(publishSubtopic('face-1', '$SYS/broker/uptime')).toBeNull();
  });

  it('lets a terminal subscribe to its own command topic only', () => {
    expect(commandTopic('face-1')).toBe('sceneway/t/face-1/cmd');
    expect(maySubscribe('face-1', 'sceneway/t/face-1/cmd')).toBe(true);
    for (const filter of [
      '#',
      '+/+/+/cmd',
      'sceneway/t/+/cmd',
      'sceneway/t/face-1/#',
      'sceneway/t/face-1/+',
      'sceneway/t/face-2/cmd',
    ]) {
      expect(maySubscribe('face-1', filter)).toBe(false);
    }
  });

  it('never lets one terminal publish or subscribe into another terminal’s topics', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,12}$/);
    fc.assert(
      fc.property(id, id, fc.string(), (self, other, rest) => {
        fc.pre(self !== other);
        const topic = terminalPrefix(other) + rest;
        return publishSubtopic(self, topic) === null && !maySubscribe(self, topic);
      }),
    );
  });

  it('enforces a declared ACL: publish only to declared subtopics, subscribe only to declared commands', () => {
    const acl = { terminalId: 'kiosk-1', publish: ['events', 'status/+'], subscribe: ['cmd/door'] };
    expect(publishSubtopicAcl(acl, 'sceneway/t/kiosk-1/events')).toBe('events');
    expect(publishSubtopicAcl(acl, 'sceneway/t/kiosk-1/status/battery')).toBe('status/battery');
    expect(publishSubtopicAcl(acl, 'sceneway/t/kiosk-1/status')).toBeNull();
    expect(publishSubtopicAcl(acl, 'sceneway/t/kiosk-1/other')).toBeNull();
    expect(publishSubtopicAcl(acl, 'sceneway/t/kiosk-1/cmd/door')).toBeNull();
    expect(maySubscribeAcl(acl, 'sceneway/t/kiosk-1/cmd/door')).toBe(true);
    expect(maySubscribeAcl(acl, 'sceneway/t/kiosk-1/cmd/#')).toBe(false);
    expect(maySubscribeAcl(acl, 'sceneway/t/kiosk-1/events')).toBe(false);
  });

  it('matches MQTT filters as [MQTT-4.7] says', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('a/b', 'a/b/c')).toBe(false);
    expect(topicMatches('a/b/c', 'a/b')).toBe(false);
  });
});
