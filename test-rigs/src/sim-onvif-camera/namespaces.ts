/**
 * The namespaces ONVIF's WSDLs and the specifications they build on use (ONVIF Core §5 "Namespaces";
 * WS-BaseNotification, WS-Addressing 1.0, WS-Security UsernameToken Profile 1.0). One table, so an
 * element the simulator reads or writes is always named by the namespace a conforming client expects.
 */
export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  tt: 'http://www.onvif.org/ver10/schema',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tmd: 'http://www.onvif.org/ver10/deviceIO/wsdl',
  ter: 'http://www.onvif.org/ver10/error',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
  tns1: 'http://www.onvif.org/ver10/topics',
  /** Hikvision's vendor topic namespace, as its cameras declare the `tnshik` prefix. */
  tnshik: 'http://www.hikvision.com/2011/event/topics',
} as const;

export const PASSWORD_DIGEST_TYPE =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';

/** The topic expression dialect ONVIF events use (ONVIF Core §9.6). */
export const CONCRETE_SET_DIALECT = 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet';

export const TOPIC_LICENSE_PLATE = 'tns1:RuleEngine/Recognition/LicensePlate';
export const TOPIC_HIK_VEHICLE = 'tns1:RuleEngine/VehicleDetector/tnshik:Vehicle';

/** Every prefix the simulator writes, declared once on each Envelope it sends. */
export const ENVELOPE_NAMESPACES = Object.entries(NS)
  .map(([prefix, uri]) => `xmlns:${prefix === 'soap' ? 'env' : prefix}="${uri}"`)
  .join(' ');
