/**
 * What of a store failure may go to a log line. drizzle wraps a driver error as "Failed query: <sql>
 * params: <values>", and the values are a batch's payloads, sealed personal data, keys and nonces
 * (STYLE.md: no secret or personal data in a log line; 004 §5.1.1.1.5). So only the driver's own error
 * (SQLite "UNIQUE constraint failed: records.box_id, records.seq", PostgreSQL "duplicate key value
 * violates unique constraint …", neither of which quotes a value) and its code are kept; PostgreSQL's
 * `detail` ("Key (box_id)=(…) already exists") is not.
 */
export function loggableError(e: unknown): { err: string; code?: string } {
  let at: unknown = e;
  // Walk past every wrapper that quotes the statement and its parameters.
  for (
    let depth = 0;
    depth < 5 && at instanceof Error && /Failed query|Failed to run the query|params:/i.test(at.message);
    depth++
  ) {
    at = at.cause;
  }
  if (at === undefined || at === null)
    return { err: 'store query failed (details withheld: they quote parameters)' };
  const message = at instanceof Error ? at.message : String(at);
  const name = at instanceof Error ? at.name : typeof at;
  const code = (at as { code?: unknown }).code;
  const safe = /Failed query|Failed to run the query|params:/i.test(message)
    ? 'store query failed (details withheld: they quote parameters)'
    : (message.split('\n')[0]?.slice(0, 300) ?? '');
  return typeof code === 'string' ? { err: `${name}: ${safe}`, code } : { err: `${name}: ${safe}` };
}
