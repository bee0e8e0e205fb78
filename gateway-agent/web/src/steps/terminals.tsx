import type { ConfigDocument, TerminalState } from '../api.ts';
import { getIn, setIn } from '../document-paths.ts';
import { Field, OtherIssues, SelectField, type StepProps } from '../fields.tsx';

interface DriverEntry {
  driver: string;
  config?: { terminals?: unknown[] };
}

const entries = (doc: ConfigDocument) => (Array.isArray(doc.drivers) ? (doc.drivers as DriverEntry[]) : []);

/** The paths this step shows a field for; the rest of its issues are listed below the lines. */
export function terminalPaths(doc: ConfigDocument): string[] {
  return entries(doc).flatMap((entry, i) => {
    if (entry.driver !== 'canteen-pos') return [];
    const base = `drivers[${i}].config`;
    const tills = (entry.config?.terminals ?? []).flatMap((_, j) =>
      ['id', 'address', 'protocol'].map((f) => `${base}.terminals[${j}].${f}`),
    );
    return [`${base}.port.path`, `${base}.port.baudRate`, `${base}.mode`, ...tills];
  });
}

function PosLine(props: StepProps & { index: number }) {
  const base = `drivers[${props.index}].config`;
  const tills = (getIn(props.doc, `${base}.terminals`) as unknown[] | undefined) ?? [];
  const addTill = () =>
    props.edit(setIn(props.doc, `${base}.terminals[${tills.length}]`, { id: '', address: tills.length + 1 }));
  return (
    <fieldset class="line">
      <legend>Canteen POS line {props.index + 1}</legend>
      <Field
        {...props}
        label={`Serial port (line ${props.index + 1})`}
        path={`${base}.port.path`}
        hint="Prefer /dev/serial/by-id/...: it names the adapter, not the USB socket."
      />
      <Field
        {...props}
        label={`Baud rate (line ${props.index + 1})`}
        path={`${base}.port.baudRate`}
        kind="number"
      />
      <SelectField
        {...props}
        label={`Mode (line ${props.index + 1})`}
        path={`${base}.mode`}
        options={['rs232', 'rs485']}
      />
      {tills.map((_, j) => (
        <div class="till" key={j}>
          <Field {...props} label={`Till ${j + 1} id`} path={`${base}.terminals[${j}].id`} />
          <Field
            {...props}
            label={`Till ${j + 1} address`}
            path={`${base}.terminals[${j}].address`}
            kind="number"
          />
          <SelectField
            {...props}
            label={`Till ${j + 1} protocol`}
            path={`${base}.terminals[${j}].protocol`}
            options={[2, 1]}
          />
        </div>
      ))}
      <button type="button" onClick={addTill}>
        Add a till on this line
      </button>
    </fieldset>
  );
}

export function TerminalsStep(props: StepProps & { board: TerminalState[] }) {
  const all = entries(props.doc);
  const addLine = () =>
    props.edit(
      setIn(props.doc, `drivers[${all.length}]`, {
        driver: 'canteen-pos',
        config: { port: { path: '' }, mode: 'rs232', terminals: [{ id: '', address: 1 }] },
      }),
    );
  const others = all.map((e, i) => ({ e, i })).filter(({ e }) => e.driver !== 'canteen-pos');
  return (
    <div>
      <p>
        Which terminals hang on which port and address. Canteen POS lines are edited here; other families are
        listed.
      </p>
      {all.map((entry, i) =>
        entry.driver === 'canteen-pos' ? <PosLine {...props} index={i} key={i} /> : null,
      )}
      <button type="button" onClick={addLine}>
        Add a canteen POS line
      </button>
      {others.length > 0 ? (
        <div class="card others">
          <h3>Other terminals (face readers, cameras, HID readers)</h3>
          <ul>
            {others.map(({ e, i }) => (
              <li key={i}>
                <code>drivers[{i}]</code> {e.driver}:{' '}
                {props.board
                  .filter((t) => t.driver === e.driver)
                  .map((t) => t.id)
                  .join(', ') || 'no terminal running yet'}
              </li>
            ))}
          </ul>
          <p class="hint">Edit these in the config file for now (docs/configuration.md).</p>
        </div>
      ) : null}
      <OtherIssues issues={props.issues} shown={terminalPaths(props.doc)} />
    </div>
  );
}
