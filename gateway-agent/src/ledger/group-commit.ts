/**
 * Group commit: appends that arrive while the previous transaction is being written (better-sqlite3
 * is synchronous, so they queue up behind it) are committed together in the next transaction. Every
 * caller's promise settles only after the transaction that holds its item has committed and, with
 * `afterCommit`, been made durable, so one fsync acknowledges many records without weakening
 * "durable before ack" (DESIGN invariant 1).
 */
export interface GroupItem<In, Out> {
  input: In;
  resolve(out: Out): void;
  reject(error: unknown): void;
}

export type ItemOutcome<Out> = { ok: true; value: Out } | { ok: false; error: unknown };

export interface GroupCommitter<In, Out> {
  submit(input: In): Promise<Out>;
  /** Items waiting for the next commit. */
  readonly queued: number;
  /** Settles every queued item with `error` (used on close). */
  drainWith(error: unknown): void;
}

/**
 * `commit` receives the whole group and returns one outcome per item, in order; if it throws, every
 * item of the group is rejected with that error (the transaction rolled back: nothing of it is durable).
 */
export function createGroupCommitter<In, Out>(options: {
  commit(inputs: In[]): Array<ItemOutcome<Out>>;
  /**
   * Makes the committed group durable (the ledger's WAL fsync, wal-sync.ts). Items settle only after
   * it resolves; if it rejects, every item of the group is rejected. The next group may commit
   * meanwhile, so one fsync overlaps the next group's work.
   */
  afterCommit?: () => Promise<void>;
  maxGroupSize: number;
}): GroupCommitter<In, Out> {
  let queue: Array<GroupItem<In, Out>> = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const group = queue.length <= options.maxGroupSize ? queue : queue.slice(0, options.maxGroupSize);
    queue = queue.length <= options.maxGroupSize ? [] : queue.slice(options.maxGroupSize);
    if (queue.length > 0) schedule();
    if (group.length === 0) return;
    let outcomes: Array<ItemOutcome<Out>>;
    try {
      outcomes = options.commit(group.map((g) => g.input));
    } catch (error) {
      for (const g of group) g.reject(error);
      return;
    }
    const settle = () =>
      group.forEach((g, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) g.resolve(outcome.value);
        else g.reject(outcome ? outcome.error : new Error('group commit returned too few outcomes'));
      });
    if (!options.afterCommit) {
      settle();
      return;
    }
    options.afterCommit().then(settle, (error: unknown) => {
      for (const g of group) g.reject(error);
    });
  };

  // setImmediate, not a microtask: it lets every caller that is ready in this turn of the event loop
  // (and every socket read that completed during the last fsync) join the group first.
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  return {
    submit(input) {
      return new Promise<Out>((resolve, reject) => {
        queue.push({ input, resolve, reject });
        schedule();
      });
    },
    get queued() {
      return queue.length;
    },
    drainWith(error) {
      const group = queue;
      queue = [];
      for (const g of group) g.reject(error);
    },
  };
}
