/**
 * The bank's tables, defined once for both stores (docs/decisions.md D18). The two databases need
 * different DDL (BIGINT and JSONB in PostgreSQL, INTEGER and TEXT in SQLite, and their own
 * auto-increment), so each store's CREATE TABLE text is generated from this one list rather than
 * written twice. The stores query with hand-written SQL (the insert paths are tuned per database),
 * so a plain list serves better here than drizzle tables in two dialects.
 */
type ColumnType =
  | 'text'
  /** 64-bit integer: seqs, fen, ms timestamps (BIGINT; SQLite's INTEGER is 64-bit already). */
  | 'integer'
  /** A JSON document (JSONB; TEXT holding JSON in SQLite). */
  | 'json'
  /** An auto-increment 64-bit key, the table's primary key. */
  | 'serial';

export interface BankColumn {
  name: string;
  type: ColumnType;
  nullable?: boolean;
  default?: number;
}

export interface BankTable {
  name: string;
  columns: BankColumn[];
  /** Omitted for a table keyed by its serial column. */
  primaryKey?: string[];
}

const text = (name: string, nullable = false): BankColumn => ({ name, type: 'text', nullable });
const integer = (name: string, extra: Partial<BankColumn> = {}): BankColumn => ({
  name,
  type: 'integer',
  ...extra,
});

export const BANK_TABLES: BankTable[] = [
  {
    name: 'boxes',
    columns: [
      text('box_id'),
      text('public_key'),
      text('site_id'),
      text('enrolled_at'),
      integer('head_seq', { default: 0 }),
      text('head_hash'),
    ],
    primaryKey: ['box_id'],
  },
  {
    name: 'batches',
    columns: [
      text('box_id'),
      integer('batch_seq'),
      text('digest'),
      integer('first_seq'),
      integer('last_seq'),
      text('received_at'),
      // Nullable: banks created before 2026-11-29 kept the key envelope in every record instead.
      text('key_envelope', true),
    ],
    primaryKey: ['box_id', 'batch_seq'],
  },
  {
    name: 'records',
    columns: [
      text('box_id'),
      integer('seq'),
      text('kind'),
      text('terminal_id', true),
      integer('amount_fen', { nullable: true }),
      text('recorded_at'),
      text('hash'),
      { name: 'payload', type: 'json' },
      // The SM4 seal as received (004 §5.1.4 a: personal data stays encrypted at rest).
      { name: 'pii_encrypted', type: 'json', nullable: true },
      integer('batch_seq'),
    ],
    primaryKey: ['box_id', 'seq'],
  },
  {
    name: 'nonces',
    columns: [text('box_id'), text('nonce'), integer('seen_at')],
    primaryKey: ['box_id', 'nonce'],
  },
  {
    name: 'alerts',
    columns: [{ name: 'id', type: 'serial' }, text('at'), text('kind'), text('box_id'), text('detail')],
  },
];

export type BankDialect = 'sqlite' | 'postgres';

const TYPES: Record<BankDialect, Record<ColumnType, string>> = {
  sqlite: { text: 'TEXT', integer: 'INTEGER', json: 'TEXT', serial: 'INTEGER PRIMARY KEY AUTOINCREMENT' },
  postgres: { text: 'TEXT', integer: 'BIGINT', json: 'JSONB', serial: 'BIGSERIAL PRIMARY KEY' },
};

export function columnSql(dialect: BankDialect, column: BankColumn, primaryKey = false): string {
  let out = `${column.name} ${TYPES[dialect][column.type]}`;
  // A one-column key is declared on the column, as the hand-written DDL of existing banks did.
  if (primaryKey) out += ' PRIMARY KEY';
  else if (!column.nullable && column.type !== 'serial') out += ' NOT NULL';
  if (column.default !== undefined) out += ` DEFAULT ${column.default}`;
  return out;
}

/** CREATE TABLE IF NOT EXISTS for `table`; `qualified` is its (schema-qualified, quoted) name. */
export function createBankTableSql(dialect: BankDialect, table: BankTable, qualified = table.name): string {
  const key = table.primaryKey ?? [];
  const inline = key.length === 1 ? key[0] : undefined;
  const parts = table.columns.map((c) => columnSql(dialect, c, c.name === inline));
  if (key.length > 1) parts.push(`PRIMARY KEY (${key.join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${qualified} (${parts.join(', ')})`;
}

/**
 * The columns an existing table lacks, as ADD COLUMN clauses: a bank made by an older version gets
 * the columns added since, from the same definition. Only a nullable or defaulted column can be
 * added to a table that already holds rows; anything else needs a written migration.
 */
export function missingColumnsSql(dialect: BankDialect, table: BankTable, existing: Set<string>): string[] {
  if (existing.size === 0) return []; // not created yet
  return table.columns
    .filter((c) => !existing.has(c.name))
    .map((c) => {
      if (!c.nullable && c.default === undefined)
        throw new Error(
          `bank table ${table.name} lacks the required column ${c.name}: it cannot be added to existing rows; migrate the bank database by hand`,
        );
      return `ADD COLUMN ${columnSql(dialect, c)}`;
    });
}
