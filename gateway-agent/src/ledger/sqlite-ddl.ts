import { is, SQL } from 'drizzle-orm';
import { getTableConfig, SQLiteSyncDialect, type SQLiteTable } from 'drizzle-orm/sqlite-core';

/**
 * CREATE TABLE text from a drizzle table definition, so the ledger's schema is written once: the
 * tables in ledger-schema.ts serve both the queries and the DDL (docs/decisions.md D18). drizzle-kit
 * would generate the same from the same definitions, but it is a build tool with its own journal and
 * we do not ship it to boxes; this covers what the ledger's tables use (column types, NOT NULL,
 * single-column PRIMARY KEY and UNIQUE, literal defaults, CHECK constraints) and refuses the rest
 * instead of dropping it silently.
 */
const dialect = new SQLiteSyncDialect();

function renderSql(value: SQL, where: string): string {
  const query = dialect.sqlToQuery(value);
  if (query.params.length > 0) throw new Error(`${where}: a schema expression cannot take parameters`);
  return query.sql;
}

function renderDefault(value: unknown, where: string): string {
  if (is(value, SQL)) return `(${renderSql(value, where)})`;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  throw new Error(`${where}: only number, string or sql defaults are supported`);
}

export function createTableSql(table: SQLiteTable): string {
  const config = getTableConfig(table);
  const unsupported = [
    config.indexes.length > 0 && 'indexes',
    config.foreignKeys.length > 0 && 'foreign keys',
    config.primaryKeys.length > 0 && 'composite primary keys',
    config.uniqueConstraints.length > 0 && 'table-level unique constraints',
  ].filter(Boolean);
  if (unsupported.length > 0)
    throw new Error(`table ${config.name}: ${unsupported.join(', ')} are not supported by sqlite-ddl.ts`);
  const lines = config.columns.map((column) => {
    const where = `${config.name}.${column.name}`;
    let line = `"${column.name}" ${column.getSQLType().toUpperCase()}`;
    if (column.primary) line += ' PRIMARY KEY';
    if (column.notNull && !column.primary) line += ' NOT NULL';
    if (column.isUnique) line += ' UNIQUE';
    if (column.hasDefault && column.default !== undefined)
      line += ` DEFAULT ${renderDefault(column.default, where)}`;
    return line;
  });
  for (const check of config.checks)
    lines.push(`CONSTRAINT "${check.name}" CHECK (${renderSql(check.value, `${config.name} check`)})`);
  return `CREATE TABLE "${config.name}" (\n  ${lines.join(',\n  ')}\n)`;
}
