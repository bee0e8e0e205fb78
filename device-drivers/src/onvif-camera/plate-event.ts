import type { NotificationMessage } from './onvif-client.ts';

/**
 * Plate reads out of ONVIF notification messages, in the two topics plate cameras use:
 *
 * - the standard `tns1:RuleEngine/Recognition/LicensePlate` (ONVIF Profile M): Data items PlateNumber,
 *   PlateType, CountryCode and Likelihood (0..1);
 * - Hikvision's `tns1:RuleEngine/VehicleDetector/tnshik:Vehicle`: Data items LicensePlate, PlateType,
 *   Country and Confidence (a percentage).
 *
 * Topics are compared without their prefixes: the package strips namespace declarations before we see
 * the message, so only the topic path is left to go by (a camera may bind tns1 to another prefix).
 * The event's identity is its Key ObjectId when the camera sends one.
 */
export type PlateTopic = 'onvif-license-plate' | 'hikvision-vehicle';

export interface PlateRead {
  topic: PlateTopic;
  objectId: string | null;
  plate: string;
  /** 0..1 */
  confidence: number;
  plateType?: string;
  countryCode?: string;
  /** Camera clock, ms. */
  at: number | null;
}

export type ParsedMessage =
  | { kind: 'plate'; read: PlateRead }
  | { kind: 'unknown-topic'; topic: string }
  | { kind: 'invalid'; topic: string; why: string };

const TOPICS: Record<string, PlateTopic> = {
  'RuleEngine/Recognition/LicensePlate': 'onvif-license-plate',
  'RuleEngine/VehicleDetector/Vehicle': 'hikvision-vehicle',
};

const withoutPrefixes = (topic: string) =>
  topic
    .trim()
    .split('/')
    .map((part) => part.slice(part.indexOf(':') + 1))
    .join('/');

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' ? (v as Obj) : undefined);

/** SimpleItems of a Source/Key/Data element. Values are strings again (the package turns "0.9" into 0.9). */
function simpleItems(container: unknown): Map<string, string> {
  const items = obj(container)?.simpleItem;
  const list = items === undefined ? [] : Array.isArray(items) ? items : [items];
  const out = new Map<string, string>();
  for (const item of list) {
    const attrs = obj(obj(item)?.$);
    if (attrs && attrs.Name !== undefined && attrs.Value !== undefined) {
      out.set(String(attrs.Name), String(attrs.Value));
    }
  }
  return out;
}

export function topicOf(message: NotificationMessage): string {
  const topic = message.topic;
  if (typeof topic === 'string') return topic;
  const text = obj(topic)?._;
  return typeof text === 'string' ? text : '';
}

export function parseNotification(message: NotificationMessage): ParsedMessage {
  const topic = topicOf(message);
  const kind = TOPICS[withoutPrefixes(topic)];
  if (!kind) return { kind: 'unknown-topic', topic };
  const inner = obj(obj(message.message)?.message);
  if (!inner) return { kind: 'invalid', topic, why: 'no tt:Message' };
  const data = simpleItems(inner.data);
  const key = simpleItems(inner.key);
  const utc = obj(inner.$)?.UtcTime;
  const at = utc instanceof Date ? utc.getTime() : typeof utc === 'string' ? Date.parse(utc) : Number.NaN;
  const hik = kind === 'hikvision-vehicle';
  const plate = (hik ? data.get('LicensePlate') : data.get('PlateNumber'))?.trim();
  if (!plate) return { kind: 'invalid', topic, why: `no ${hik ? 'LicensePlate' : 'PlateNumber'} item` };
  // A plate is letters, digits and the region character: anything else (control bytes, markup) is junk.
  if (plate.length > 16 || !/^[\p{L}\p{N}·. -]+$/u.test(plate)) {
    return { kind: 'invalid', topic, why: 'the plate text is not a plate' };
  }
  const score = Number(hik ? data.get('Confidence') : data.get('Likelihood'));
  const confidence = hik ? score / 100 : score;
  if (!Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
    return { kind: 'invalid', topic, why: `no usable ${hik ? 'Confidence' : 'Likelihood'}` };
  }
  const plateType = data.get('PlateType');
  const countryCode = hik ? data.get('Country') : data.get('CountryCode');
  return {
    kind: 'plate',
    read: {
      topic: kind,
      objectId: key.get('ObjectId') ?? null,
      plate,
      confidence,
      ...(plateType ? { plateType } : {}),
      ...(countryCode ? { countryCode } : {}),
      at: Number.isFinite(at) ? at : null,
    },
  };
}
