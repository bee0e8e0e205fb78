/**
 * Codes of the drivers, their codecs and transports (DriverError, and the `frame-error` events a
 * driver reports). Grouped by family (POS_, HID_) and transport (SERIAL_, TRANSPORT_). A code is a
 * contract with support: never rename or reuse one. docs/error-codes.md is generated from this list.
 */
export const DRIVER_ERROR_CODES = [
  {
    code: 'FACE_COMMAND_EXPIRED',
    description:
      'A door command reached no face reader before its expiry (offline reader); it was not carried out.',
  },
  { code: 'FACE_JSON', description: 'A face reader message is not JSON.' },
  {
    code: 'FACE_PERSONS_NO_KEY',
    description:
      'Alert: a face reader has no provisioned key, so its person list is not sent: run `sceneway terminal provision <readerId>`.',
  },
  {
    code: 'FACE_MESSAGE_SIZE',
    description: 'A face reader message is larger than the protocol allows (4 KiB).',
  },
  {
    code: 'FACE_SCHEMA',
    description:
      'A face reader message fails its schema (docs/protocols/face-reader.md); the field is named.',
  },
  {
    code: 'FACE_TOPIC_UNKNOWN',
    description: 'A face reader published on a topic the protocol does not define.',
  },
  {
    code: 'HID_AMBIGUOUS',
    description: 'Several HID devices match the configured ids; set serialNumber to pick one.',
  },
  { code: 'HID_BUSY', description: 'The HID device is already open in this agent (configured twice?).' },
  { code: 'HID_FAILED', description: 'The HID reader failed for a reason that carried no code.' },
  { code: 'HID_NOT_FOUND', description: 'No HID device with the configured ids is plugged in.' },
  { code: 'HID_OPEN_ABORTED', description: 'Opening the HID device was cancelled (the driver stopped).' },
  { code: 'HID_REPORT_LENGTH', description: 'A keyboard report does not have the boot-protocol length.' },
  { code: 'HID_REPORT_SHORT', description: 'A HID report is shorter than its format needs.' },
  { code: 'HID_UNAVAILABLE', description: 'node-hid cannot be loaded on this box.' },
  {
    code: 'HID_UNPLUGGED',
    description: 'The HID device stopped (unplugged); the driver reopens it with backoff.',
  },
  { code: 'HID_VENDOR_CARD_TYPE', description: 'A vendor-mode report names an unknown card type.' },
  { code: 'HID_VENDOR_CHECKSUM', description: 'A vendor-mode report fails its checksum.' },
  { code: 'HID_VENDOR_LENGTH', description: 'A vendor-mode report has an impossible length field.' },
  { code: 'HID_VENDOR_REPORT_ID', description: 'A vendor-mode report has an unexpected report id.' },
  {
    code: 'HID_WEDGE_DISCARDED',
    description: 'Typed characters were dropped (no terminator, too long, or timed out).',
  },
  {
    code: 'HID_WEDGE_TEXT',
    description: 'Keyboard-wedge text is not a card number of the configured format.',
  },
  { code: 'HID_WEDGE_UNTYPABLE', description: 'A US keyboard cannot type that character (simulator side).' },
  { code: 'HID_WRITE_FAILED', description: 'Writing to the HID device failed or it is closed.' },
  {
    code: 'POS_AUTH_FAILED',
    description: 'A v2 till failed the session handshake (no key, unknown key version, wrong proof).',
  },
  { code: 'POS_BUSY', description: 'The box could not answer a POS request now; the till asks again.' },
  { code: 'POS_DECODE', description: 'A POS frame could not be decoded for a reason that carried no code.' },
  { code: 'POS_FIELD_INVALID', description: 'A POS message field has an invalid value.' },
  { code: 'POS_FIELD_MISSING', description: 'A POS message lacks a required field.' },
  { code: 'POS_FRAME_CRC', description: 'A POS frame fails its CRC-16.' },
  { code: 'POS_FRAME_ETX', description: 'A POS frame does not end with ETX where its length says.' },
  { code: 'POS_FRAME_JUNK', description: 'Bytes between POS frames were skipped.' },
  { code: 'POS_FRAME_LENGTH', description: 'A POS frame body is longer than the protocol allows.' },
  { code: 'POS_FRAME_TRUNCATED', description: 'A POS frame was cut short.' },
  { code: 'POS_INTERNAL', description: 'Handling a POS request failed for a reason that carried no code.' },
  {
    code: 'POS_KEY_MISSING',
    description: 'A v2 till has no provisioned key: run `sceneway terminal provision <id>`.',
  },
  {
    code: 'POS_MAC_INVALID',
    description: 'A v2 frame lacks its MAC fields or its MAC does not verify under the session key.',
  },
  { code: 'POS_NAK_LIMIT', description: 'A till NAKed the same frame too many times in a row.' },
  {
    code: 'POS_NO_ANSWER',
    description: 'Live test: a till did not answer a heartbeat POLL (cable, address or baud rate?).',
  },
  {
    code: 'POS_UNKNOWN_TERMINAL',
    description: 'Live test: no till with that id is configured on this POS line.',
  },
  { code: 'POS_DRIVER_STOPPED', description: 'Live test: the POS driver is not running (stopping?).' },
  { code: 'POS_PORT_CLOSED', description: 'A write to a POS till found its serial port closed.' },
  {
    code: 'POS_PROTOCOL_V1',
    description: 'A till runs POS protocol v1 (no MACs) by an insecure acknowledgement.',
  },
  {
    code: 'POS_RECORD_MAC_INVALID',
    description: 'An uploaded offline record has a missing or forged RECORD_MAC; it was not recorded.',
  },
  {
    code: 'POS_REPLAYED',
    description: 'A v2 frame repeats or predates a MAC counter already accepted in its session.',
  },
  {
    code: 'POS_SESSION_REQUIRED',
    description: 'A v2 frame that must carry a MAC arrived while no session was open for the till.',
  },
  {
    code: 'POS_SLOW_DECISION',
    description: 'A POS decision took longer than decisionBudgetMs; the till may retransmit.',
  },
  { code: 'POS_TLV_MALFORMED', description: 'A POS message body is not well-formed TLV.' },
  {
    code: 'POS_UNEXPECTED_COMMAND',
    description: 'A till sent a known command the box does not expect from it.',
  },
  {
    code: 'POS_UNKNOWN_ADDRESS',
    description: 'A POS frame is for a till address not configured on this line.',
  },
  { code: 'POS_UNKNOWN_COMMAND', description: 'A POS frame carries a command the protocol does not define.' },
  { code: 'SERIAL_OPEN_ABORTED', description: 'Opening the serial port was cancelled (the driver stopped).' },
  {
    code: 'SERIAL_OPEN_FAILED',
    description: 'The serial port cannot be opened (path, permissions, options).',
  },
  { code: 'SERIAL_WRITE_FAILED', description: 'Writing to the serial port failed or it is closed.' },
  { code: 'TRANSPORT_KIND', description: 'No transport exists for the endpoint kind in the config.' },
  {
    code: 'TRANSPORT_KIND_UNSUPPORTED',
    description: 'A transport was asked to open an endpoint of another kind.',
  },
  { code: 'HTTP_CLOSED', description: 'An HTTP request to a device after its transport was closed.' },
  { code: 'HTTP_ENDPOINT_INVALID', description: 'The device URL in the config is not an http(s) URL.' },
  {
    code: 'HTTP_PATH_INVALID',
    description: 'A request path would leave the device origin (another host); refused before sending.',
  },
  {
    code: 'HTTP_RESPONSE_TOO_LARGE',
    description: 'The device answered with more bytes than the driver accepts; the exchange was cut off.',
  },
  { code: 'HTTP_TIMEOUT', description: 'The device did not answer an HTTP request in time.' },
  {
    code: 'HTTP_UNREACHABLE',
    description: 'The device could not be reached over HTTP (connection refused, no route).',
  },
  {
    code: 'ONVIF_AUTH_REFUSED',
    description: 'The camera refused the WS-UsernameToken (wrong user or password, or its clock is far off).',
  },
  {
    code: 'ONVIF_EVENT_INVALID',
    description: 'A plate event without a usable plate number or confidence; it was dropped.',
  },
  {
    code: 'ONVIF_FAULT',
    description:
      'The camera answered an ONVIF request with a SOAP fault (for a pull: it forgot the subscription).',
  },
  {
    code: 'ONVIF_NO_EVENTS',
    description: 'The camera lists no ONVIF event service, so it cannot report plates.',
  },
  {
    code: 'ONVIF_PASSWORD_MISSING',
    description: "The environment variable named by the camera's passwordEnv is not set.",
  },
  {
    code: 'ONVIF_RELAY_FAILED',
    description: 'SetRelayOutputState failed: the barrier did not open on an open decision.',
  },
  {
    code: 'ONVIF_RESPONSE_INVALID',
    description: 'The camera answered with something that is no ONVIF SOAP response.',
  },
  {
    code: 'ONVIF_SILENT',
    description: 'The camera did not answer an ONVIF request within its timeout; the connection was cut.',
  },
  {
    code: 'ONVIF_UNREACHABLE',
    description: 'The camera could not be reached (connection refused or reset).',
  },
  { code: 'MEMORY_PORT_ABORTED', description: 'Tests only: the open of an in-memory port was cancelled.' },
  { code: 'MEMORY_PORT_ABSENT', description: 'Tests only: the in-memory port is unplugged.' },
  { code: 'MEMORY_PORT_BUSY', description: 'Tests only: the in-memory port is already open.' },
  { code: 'MEMORY_PORT_CLOSED', description: 'Tests only: a write to a closed in-memory port.' },
  { code: 'MEMORY_PORT_DROPPED', description: 'Tests only: the test dropped the in-memory line.' },
  {
    code: 'MEMORY_PORT_UNPLUGGED',
    description: 'Tests only: the test unplugged the in-memory port while it was open.',
  },
] as const;

export type DriverErrorCode = (typeof DRIVER_ERROR_CODES)[number]['code'];
