import { describe, expect, it } from 'vitest';
import { parseNotification } from './plate-event.ts';

/**
 * Notification messages as the `onvif` package hands them (xml2js with prefixes stripped; numbers and
 * dates already converted by its linerase), in the two plate topics and others.
 */
const items = (values: Record<string, unknown>) => ({
  simpleItem: Object.entries(values).map(([Name, Value]) => ({ $: { Name, Value } })),
});
const message = (
  topic: string,
  data: Record<string, unknown>,
  key: Record<string, unknown> = { ObjectId: 'o-1' },
) => ({
  topic: { _: topic, $: { Dialect: 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet' } },
  message: {
    message: {
      $: { UtcTime: new Date('2026-03-02T01:00:00Z') },
      source: items({ VideoSource: 'v1' }),
      key: items(key),
      data: items(data),
    },
  },
});

describe('plate events from ONVIF notifications', () => {
  it('reads the standard LicensePlate topic, whatever prefix the camera bound to tns1', () => {
    for (const topic of [
      'tns1:RuleEngine/Recognition/LicensePlate',
      'ns0:RuleEngine/Recognition/LicensePlate',
    ]) {
      expect(
        parseNotification(
          message(topic, {
            PlateNumber: '京A12345',
            PlateType: 'Normal',
            CountryCode: 'CN',
            Likelihood: 0.93,
          }),
        ),
      ).toEqual({
        kind: 'plate',
        read: {
          topic: 'onvif-license-plate',
          objectId: 'o-1',
          plate: '京A12345',
          confidence: 0.93,
          plateType: 'Normal',
          countryCode: 'CN',
          at: Date.parse('2026-03-02T01:00:00Z'),
        },
      });
    }
  });

  it('reads the Hikvision Vehicle topic with its confidence in percent', () => {
    const parsed = parseNotification(
      message('tns1:RuleEngine/VehicleDetector/tnshik:Vehicle', {
        LicensePlate: '沪B7Q2X9',
        Confidence: 87,
        Country: 'CN',
      }),
    );
    expect(parsed).toMatchObject({
      kind: 'plate',
      read: { topic: 'hikvision-vehicle', plate: '沪B7Q2X9', confidence: 0.87 },
    });
  });

  it('keeps a numeric-looking plate as text (the package turned it into a number)', () => {
    const parsed = parseNotification(
      message('tns1:RuleEngine/Recognition/LicensePlate', { PlateNumber: 12345, Likelihood: 0.9 }),
    );
    expect(parsed).toMatchObject({ read: { plate: '12345' } });
  });

  it('names an unknown topic, and refuses a plate event without a usable plate or score', () => {
    expect(parseNotification(message('tns1:VideoSource/MotionAlarm', { State: true }))).toEqual({
      kind: 'unknown-topic',
      topic: 'tns1:VideoSource/MotionAlarm',
    });
    const topic = 'tns1:RuleEngine/Recognition/LicensePlate';
    expect(parseNotification(message(topic, { Likelihood: 0.9 }))).toMatchObject({ kind: 'invalid' });
    expect(parseNotification(message(topic, { PlateNumber: '京A12345', Likelihood: 1.7 }))).toMatchObject({
      kind: 'invalid',
    });
    expect(parseNotification(message(topic, { PlateNumber: '<script>', Likelihood: 0.9 }))).toMatchObject({
      kind: 'invalid',
    });
    expect(parseNotification({ topic: { _: topic } })).toMatchObject({
      kind: 'invalid',
      why: 'no tt:Message',
    });
  });
});
