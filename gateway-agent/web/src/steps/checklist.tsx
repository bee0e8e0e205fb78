import { useState } from 'preact/hooks';
import { type ChecklistItem, runChecklist } from '../api.ts';

const MARK = { ok: '✔', failed: '✘', pending: '…' } as const;

export function ChecklistStep() {
  const [items, setItems] = useState<ChecklistItem[] | null>(null);
  const [running, setRunning] = useState(false);
  const run = async () => {
    setRunning(true);
    try {
      setItems((await runChecklist()).items);
    } finally {
      setRunning(false);
    }
  };
  const allOk = items?.every((i) => i.state === 'ok') ?? false;
  return (
    <div>
      <p>
        What the agent measures itself: the uploader's contact with the bank, the clock offset from the bank's
        acks, and a heartbeat to every terminal.
      </p>
      <button type="button" onClick={run} disabled={running}>
        {running ? 'Checking…' : 'Run the final checks'}
      </button>
      {items ? (
        <ul class="checklist" data-testid="checklist">
          {items.map((i) => (
            <li key={i.id} class={i.state} data-check={i.id} data-state={i.state}>
              <span class="mark">{MARK[i.state]}</span> <strong>{i.label}</strong>: {i.detail}
            </li>
          ))}
        </ul>
      ) : null}
      {allOk ? <p class="good">All checks passed: the box is commissioned.</p> : null}
    </div>
  );
}
