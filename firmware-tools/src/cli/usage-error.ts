/** The command could not run as asked (bad option, unreadable or unsafe file): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
