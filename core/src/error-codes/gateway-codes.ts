/**
 * Codes of the gateway agent (GatewayError, its alerts and its admin API answers). A code is a
 * contract with support and with the fleet: never rename or reuse one; add a new one instead.
 * docs/error-codes.md is generated from this list (`npm run docs:errors`).
 */
export const GATEWAY_ERROR_CODES = [
  {
    code: 'ADMIN_INTERNAL',
    description: 'The admin API failed while answering; the agent log has the cause.',
  },
  { code: 'ADMIN_METHOD', description: 'The admin API answers GET only (the installer UI also POST).' },
  {
    code: 'INSTALLER_OFF',
    description:
      'The installer UI is off: set admin.installer.passwordHash (`sceneway broker hash-password`).',
  },
  { code: 'INSTALLER_LOGIN', description: 'Installer login refused: wrong password, or throttled.' },
  {
    code: 'INSTALLER_BUSY',
    description: 'Installer login refused at once: too many password checks queued.',
  },
  { code: 'INSTALLER_SESSION', description: 'No installer session (or it expired): log in again.' },
  {
    code: 'INSTALLER_CSRF',
    description: 'A state-changing installer request without the session CSRF token or from another Origin.',
  },
  { code: 'INSTALLER_BODY', description: 'An installer request body that is too large or not JSON.' },
  { code: 'INSTALLER_WEB_MISSING', description: 'The installer UI is not built: run npm run build.' },
  { code: 'INSTALLER_CONFIG_FILE', description: 'The installer cannot read or write the box config file.' },
  { code: 'INSTALLER_TERMINAL_UNKNOWN', description: 'Live test: no configured terminal has that id.' },
  {
    code: 'INSTALLER_PROBE_UNSUPPORTED',
    description: 'Live test: this terminal family has no live test yet.',
  },
  {
    code: 'ADMIN_NOT_FOUND',
    description: 'No admin API route at that path; try /healthz, /api/status, /metrics.',
  },
  {
    code: 'BROKER_CLOSED',
    description: 'A command was sent to a terminal after the embedded MQTT broker stopped.',
  },
  {
    code: 'BROKER_DUPLICATE_TERMINAL',
    description: 'Two MQTT terminals in the config share an id or a username.',
  },
  {
    code: 'BROKER_LISTEN',
    description: 'The embedded MQTT broker cannot listen on its host and port (taken?).',
  },
  {
    code: 'BROKER_LOGIN_LOCKOUT',
    description: 'Alert: repeated failed MQTT logins locked an address, username or terminal path out.',
  },
  { code: 'BROKER_PUBLISH', description: 'Publishing a command to an MQTT terminal failed.' },
  {
    code: 'BROKER_TLS_CONFIG',
    description: 'The broker TLS settings contradict each other (client certificates without a CA).',
  },
  {
    code: 'BROKER_TLS_FILES',
    description: 'The broker TLS certificate, key or CA file cannot be read or used.',
  },
  {
    code: 'BROKER_UNKNOWN_TERMINAL',
    description: 'A command names an MQTT terminal that is not configured.',
  },
  {
    code: 'CANTEEN_BACKLOG_FULL',
    description: 'Alert: the unsynced backlog reached its limit; offline sales are declined until it drains.',
  },
  { code: 'CANTEEN_BANK_KEY', description: 'bank.publicKeyHex in the config is not an SM2 public key.' },
  {
    code: 'CANTEEN_BLACKLIST_BOX',
    description: 'A blacklist update was signed for another box (its digests are under another key).',
  },
  {
    code: 'CANTEEN_BLACKLIST_MALFORMED',
    description: 'A blacklist update from the bank is not a valid sceneway.canteen-blacklist.v2 document.',
  },
  {
    code: 'CANTEEN_BLACKLIST_SIGNATURE',
    description: 'A blacklist update does not verify with the pinned bank key; the current list stays.',
  },
  {
    code: 'CANTEEN_BLACKLIST_UPDATE',
    description: 'Alert: the bank blacklist feed cannot be fetched or applied; the current list stays.',
  },
  {
    code: 'CANTEEN_BLACKLIST_VERSION',
    description: 'A blacklist update is older than, or does not continue, the current version.',
  },
  {
    code: 'CANTEEN_DISK_LOW',
    description: 'Alert: free disk space is below the floor; offline sales are declined until space returns.',
  },
  {
    code: 'PARKING_MANUAL_REVIEW',
    description:
      'Alert: parking passages wait for an attendant (an exit without entry, a likely misread, an entry while the plate was inside).',
  },
  {
    code: 'CANTEEN_HOLDER_KEY_MISSING',
    description: 'Alert: no holder key (enrolment answer); unkeyed digests, blacklist not updated.',
  },
  {
    code: 'CANTEEN_OFFLINE_RISK',
    description:
      'Alert: a till approved offline a sale the box would have declined (flags OFFLINE_*); recorded and flagged for the bank.',
  },
  {
    code: 'CANTEEN_RECEIPT_REUSED',
    description:
      'Alert: a till sent a receipt number again for another sale or void; declined DUPLICATE_RECEIPT, nothing recorded: service the till.',
  },
  {
    code: 'CANTEEN_SALE_VETO',
    description: 'A sale was refused inside the ledger commit by a rule that needs the committed state.',
  },
  { code: 'CANTEEN_TIMEZONE', description: 'The canteen time zone is not an IANA time zone name.' },
  {
    code: 'GATES_HOLDER_KEY_MISSING',
    description: 'No holder key: gate person digests are unkeyed until the enrolment answer is imported.',
  },
  { code: 'GATES_TIMEZONE', description: 'The gates time zone is not an IANA time zone name.' },
  { code: 'CLI_USAGE', description: 'A command-line argument has the wrong form.' },
  {
    code: 'CLOCK_DRIFT',
    description: "Alert: the box clock is off the bank's clock beyond the allowed drift.",
  },
  {
    code: 'CONFIG_DRIVER_UNKNOWN',
    description: 'A drivers[] entry names a driver this agent does not have.',
  },
  { code: 'CONFIG_INVALID', description: 'The box config fails validation; the message names the field.' },
  { code: 'CONFIG_SYNTAX', description: 'The box config file is not valid YAML or JSON.' },
  { code: 'CONFIG_TOO_NEW', description: 'The config declares a version newer than this agent understands.' },
  { code: 'CONFIG_UNREADABLE', description: 'The box config file cannot be read.' },
  {
    code: 'FLEET_BOX_OFFLINE',
    description:
      "Fleet alert: the broker published the box's last will, the box stopped cleanly, or no heartbeat came for --offline-after seconds.",
  },
  {
    code: 'FLEET_CLOCK_DRIFT',
    description:
      "Fleet alert: the box reports its clock off the bank's beyond --clock-drift seconds; fix its NTP.",
  },
  {
    code: 'FLEET_DISK_LOW',
    description: 'Fleet alert: the ledger disk of the box has less than --disk-low MiB free.',
  },
  {
    code: 'FLEET_RPO_EXCEEDED',
    description:
      "Fleet alert: the box's oldest unsynced record is older than the RPO (30 min, 004 §5.2 c); check its bank link.",
  },
  {
    code: 'FLEET_SYNC_STOPPED',
    description:
      'Fleet alert: the bank refused a batch for good and the box stopped uploading; see its SYNC_* code.',
  },
  {
    code: 'FLEET_TERMINAL_DOWN',
    description: 'Fleet alert (`FLEET_TERMINAL_DOWN:<terminal>`): a terminal of the box does not answer.',
  },
  { code: 'KEYS_CORRUPT', description: 'The box key file is unreadable or damaged.' },
  {
    code: 'KEYS_ENROLMENT_ANSWER',
    description: "The bank's enrolment answer does not verify, or is for another box or key.",
  },
  {
    code: 'KEYS_EXIST',
    description: 'keys init found a box key already (the bank enrolled it; --force only to re-enrol).',
  },
  {
    code: 'KEYS_KDF_BOUNDS',
    description: 'The box key file asks for scrypt parameters outside the fixed bounds; nothing was derived.',
  },
  { code: 'KEYS_MISSING', description: 'No box key in the keys directory; run `sceneway keys init`.' },
  { code: 'KEYS_PASSPHRASE', description: 'The key passphrase does not open the box key.' },
  {
    code: 'KEYS_PASSPHRASE_MISSING',
    description: 'No key passphrase was given (SCENEWAY_KEY_PASSPHRASE or --passphrase-file).',
  },
  {
    code: 'KEYS_PASSPHRASE_FILE_MODE',
    description: 'The passphrase file is readable by group or others; `chmod 600` it.',
  },
  { code: 'KEYS_PASSPHRASE_WEAK', description: 'The key passphrase is shorter than 8 characters.' },
  {
    code: 'KEYS_TERMINAL_STORE',
    description: 'The sealed terminal key store is unreadable, damaged or altered; it was not used.',
  },
  {
    code: 'KEYS_TERMINAL_UNKNOWN',
    description: 'terminal provision names a terminal id no canteen-pos driver entry configures.',
  },
  {
    code: 'KEYS_TAMPERED',
    description: 'The box key file fails its HMAC-SM3 check: it was altered; restore it from backup.',
  },
  { code: 'LEDGER_CLOSED', description: 'A write reached the ledger after it was closed.' },
  {
    code: 'LEDGER_DISK_FULL',
    description: 'The ledger cannot take new records: the disk is full or below its floor.',
  },
  { code: 'LEDGER_NOT_FOUND', description: 'No ledger file at the given path.' },
  { code: 'LEDGER_NO_BOX_ID', description: 'The ledger file names no box id: no agent ever opened it.' },
  { code: 'LEDGER_OPEN', description: 'The ledger database cannot be opened.' },
  {
    code: 'LEDGER_PII_UNREADABLE',
    description: "A record's personal data does not decrypt with this box's data key.",
  },
  {
    code: 'LEDGER_QUARANTINED',
    description: 'The ledger file was damaged and moved aside; the box starts a new one.',
  },
  {
    code: 'LEDGER_RECORD_INVALID',
    description: 'A record handed to the ledger is malformed (kind, amount, fields).',
  },
  {
    code: 'LEDGER_SYNC_FAILED',
    description: 'Syncing the ledger to disk failed; fatal, the agent stops writing and exits.',
  },
  { code: 'LEDGER_WRITE', description: 'Writing a record to the ledger failed.' },
  {
    code: 'RECON_UPLOAD_FAILED',
    description: 'Alert: the daily reconciliation report could not be sent to the bank.',
  },
  { code: 'STATUS_UNREACHABLE', description: '`sceneway status` found no agent answering at the admin URL.' },
  {
    code: 'BROKER_TOPIC_REFUSED',
    description:
      'The box tried to publish to a subtopic the MQTT terminal does not subscribe to (its declared ACL).',
  },
  {
    code: 'BROKER_TRANSPORT_BUSY',
    description: 'A driver opened the topics of an MQTT terminal that another driver instance already holds.',
  },
  {
    code: 'CONFIG_MIGRATION',
    description:
      'An older config cannot be migrated automatically (e.g. v1 mqttTerminals): the message says what to move where.',
  },
  {
    code: 'CONFIG_SCENARIO_AMBIGUOUS',
    description:
      'Two configured scenarios decide the same event of a driver: name one in drivers[i].scenario.',
  },
  {
    code: 'CONFIG_SCENARIO_UNKNOWN',
    description: 'drivers[i].scenario names a scenario that is not configured under scenarios.',
  },
  {
    code: 'CONFIG_TERMINAL_DUPLICATE',
    description: 'Two driver entries use the same terminal id; every terminal on a box needs its own.',
  },
  {
    code: 'SCENARIO_UNHANDLED',
    description:
      'No configured scenario decides an event a driver submits: configure the scenario of that terminal family.',
  },
  {
    code: 'AGENT_PART_CRASHED',
    description:
      'A part of the agent (e.g. the uploader) stopped unexpectedly and is being restarted with backoff.',
  },
  {
    code: 'LEDGER_TAIL_MISSING',
    description:
      'The ledger ends below what the bank acknowledged or the last boot verified: records were lost from its tail; restore the ledger, do not start a fresh one.',
  },
  {
    code: 'LEDGER_BEHIND_BANK',
    description:
      'The bank holds records of this box past the ledger head (a ledger restored from an older copy): uploads stop, nothing is renumbered; restore the newest ledger.',
  },
] as const;

export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number]['code'];
