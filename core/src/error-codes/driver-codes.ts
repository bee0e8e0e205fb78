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
  {
    code: 'FACE_FW_BUSY',
    description: 'A face reader is already taking a firmware update or rollback; try again when it is done.',
  },
  {
    code: 'FACE_FW_DOWNLOAD_FAILED',
    description:
      'A face reader gave up fetching a firmware image from the box (reported by the reader; retryable).',
  },
  {
    code: 'FACE_FW_DRIVER_STOPPED',
    description:
      'The face-reader driver stopped during a firmware transfer; the reader keeps what it fetched and resumes on the next one.',
  },
  {
    code: 'FACE_FW_NO_IMAGE_SERVER',
    description: 'This face-reader entry has no `firmwareHttp`: its readers cannot take firmware updates.',
  },
  {
    code: 'FACE_FW_NOT_BACK',
    description:
      'A face reader did not report again within `firmwareHttp.rebootTimeoutMs` after a firmware reboot.',
  },
  {
    code: 'FACE_FW_NOT_SENT',
    description: 'A firmware announcement or rollback could not be queued on the broker for the reader.',
  },
  {
    code: 'FACE_FW_NOT_SUPPORTED',
    description:
      'A face reader reports no firmware status (`status.fw`): it cannot take updates over this protocol.',
  },
  {
    code: 'FACE_FW_READER_OFFLINE',
    description:
      'A face reader is not connected to the broker: no firmware transfer was started (retryable).',
  },
  {
    code: 'FACE_FW_READER_ERROR',
    description:
      'A face reader failed a firmware transfer on an error of its own (its detail says which; retryable).',
  },
  {
    code: 'FACE_FW_REFUSED',
    description: 'A face reader refused a firmware image without naming why (readers name FW_* codes).',
  },
  {
    code: 'FACE_FW_TOKEN_REFUSED',
    description:
      "The box's image server refused a reader's download token (expired or revoked); a new transfer gets a new one.",
  },
  {
    code: 'FACE_FW_TRANSFER_EXPIRED',
    description:
      'A face reader did not fetch and check a firmware image within `firmwareHttp.tokenTtlMs` (retryable).',
  },
  {
    code: 'FACE_FW_TRANSFER_FAILED',
    description: 'A face reader reported a firmware transfer failed without naming why (retryable).',
  },
  {
    code: 'FACE_FW_UNKNOWN_READER',
    description: 'No reader with that id in this face-reader driver entry.',
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
  {
    code: 'POS_FW_BUSY',
    description: 'A firmware operation was asked for a till that already has one running.',
  },
  {
    code: 'POS_FW_DIGEST_MISMATCH',
    description: "The till found the staged image's SM3 or size not the manifest's, and discarded it.",
  },
  {
    code: 'POS_FW_DRIVER_STOPPED',
    description: 'The canteen POS driver stopped during a firmware operation; the till keeps what it staged.',
  },
  {
    code: 'POS_FW_INTERNAL',
    description: 'A firmware operation failed inside the box (a bug or a read error).',
  },
  {
    code: 'POS_FW_NO_PREVIOUS',
    description: 'FW_ROLLBACK refused: the other slot of the till holds no image that ran.',
  },
  {
    code: 'POS_FW_NO_REBOOT',
    description: 'The till acknowledged FW_ACTIVATE or FW_ROLLBACK but did not come back in time.',
  },
  {
    code: 'POS_FW_NOT_FOR_THIS_TILL',
    description: "The signed manifest is not for this till's family, model, hardware or running version.",
  },
  {
    code: 'POS_FW_NOT_STAGED',
    description: 'The till holds no complete transfer of that image (FW_CHUNK or FW_ACTIVATE refused).',
  },
  {
    code: 'POS_FW_NOT_SUPPORTED',
    description: 'A firmware update was asked of a protocol 1 till: firmware goes only inside a v2 session.',
  },
  {
    code: 'POS_FW_PROTOCOL',
    description: 'A till answered a firmware frame with something §13 does not allow.',
  },
  { code: 'POS_FW_REFUSED', description: 'The till refused a firmware frame with a NAK reason of its own.' },
  {
    code: 'POS_FW_SIGNATURE_INVALID',
    description: "The manifest's vendor signature does not verify under the key pinned in the till.",
  },
  {
    code: 'POS_FW_STALLED',
    description:
      'A firmware transfer made no progress for stallTimeoutMs; a new install resumes where the till stopped.',
  },
  { code: 'POS_FW_TOO_LARGE', description: "The image and manifest are larger than the till's slot." },
  {
    code: 'POS_FW_UNKNOWN_TERMINAL',
    description: 'A firmware operation named a terminal that is not on this canteen POS line.',
  },
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
    code: 'ONVIF_FIRMWARE_BUSY',
    description: 'A firmware install or rollback of this camera is already under way; try again after it.',
  },
  {
    code: 'ONVIF_FIRMWARE_NO_PREVIOUS',
    description:
      'A rollback without the previous package: ONVIF has no revert, the camera only goes back by taking that package again.',
  },
  {
    code: 'ONVIF_FIRMWARE_REBOOT_TIMEOUT',
    description:
      "The camera took the firmware but did not answer again within its ExpectedDownTime plus the driver's firmware.rebootMarginMs.",
  },
  {
    code: 'ONVIF_FIRMWARE_REFUSED',
    description:
      'The camera refused the uploaded package (HTTP 415/413): its own check of the vendor signature, the SM3 digests, the model or the size failed.',
  },
  {
    code: 'ONVIF_FIRMWARE_UNKNOWN_TERMINAL',
    description: 'A firmware call named a terminal id this camera driver does not drive.',
  },
  {
    code: 'ONVIF_FIRMWARE_UNSUPPORTED',
    description:
      'The camera has no StartFirmwareUpgrade (ter:ActionNotSupported): update it by its vendor tool.',
  },
  {
    code: 'ONVIF_FIRMWARE_UPLOAD_FAILED',
    description:
      'Every firmware upload attempt broke off or was answered with an error (404/410 spent UploadUri, 500); sent whole each time.',
  },
  {
    code: 'ONVIF_FIRMWARE_URI_FOREIGN',
    description: "The camera's UploadUri names another host than the camera: the image is not sent there.",
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
