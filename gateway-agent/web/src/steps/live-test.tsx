import { useState } from 'preact/hooks';
import { ApiError, type ProbeResult, probeTerminal, type TerminalState } from '../api.ts';

/** "Send a heartbeat, see the answer": the running driver polls the terminal over its real line. */
export function LiveTestStep(props: { board: TerminalState[] }) {
  const [results, setResults] = useState<Record<string, ProbeResult | 'running'>>({});
  const test = async (id: string) => {
    setResults((r) => ({ ...r, [id]: 'running' }));
    let result: ProbeResult;
    try {
      result = await probeTerminal(id);
    } catch (err) {
      result = { outcome: 'failed', code: err instanceof ApiError ? err.code : 'HTTP', detail: String(err) };
    }
    setResults((r) => ({ ...r, [id]: result }));
  };
  if (props.board.length === 0)
    return <p>No terminal is running yet: save the config and restart the agent.</p>;
  return (
    <div>
      <p>The agent runs the config it was started with: after saving, restart it to test new terminals.</p>
      <table class="terminals">
        <thead>
          <tr>
            <th>Terminal</th>
            <th>Family</th>
            <th>Board</th>
            <th>Live test</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {props.board.map((t) => {
            const r = results[t.id];
            return (
              <tr key={t.id} data-terminal={t.id}>
                <td>{t.id}</td>
                <td>{t.driver}</td>
                <td>{t.up ? 'up' : `down (${t.detail ?? 'no report'})`}</td>
                <td class="probe-result" data-testid={`probe-${t.id}`}>
                  {r === undefined ? '' : r === 'running' ? 'sending…' : <ProbeAnswer result={r} />}
                </td>
                <td>
                  <button type="button" onClick={() => test(t.id)} disabled={r === 'running'}>
                    Send heartbeat to {t.id}
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function ProbeAnswer(props: { result: ProbeResult }) {
  const r = props.result;
  if (r.outcome === 'failed')
    return (
      <span class="bad">
        no answer: {r.code}: {r.detail}
      </span>
    );
  return (
    <span class="good">
      up, {r.roundTripMs} ms round trip{r.firmwareVersion ? `, firmware ${r.firmwareVersion}` : ''}
      {r.detail ? ` (${r.detail})` : ''}
    </span>
  );
}
