import type { ComponentChildren } from 'preact';
import type { ConfigDocument, ConfigIssue } from './api.ts';
import { getIn, issuesFor, setIn } from './document-paths.ts';

/** What every step gets: the document being edited, the last check's issues, and a way to edit. */
export interface StepProps {
  doc: ConfigDocument;
  issues: ConfigIssue[];
  edit(next: ConfigDocument): void;
}

const idOf = (path: string) => `field-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;

/** The errors the agent's validation gave this very field, right under it. */
export function FieldErrors(props: { issues: ConfigIssue[]; path: string }) {
  const own = issuesFor(props.issues, props.path);
  if (own.length === 0) return null;
  return (
    <ul class="field-errors" data-error-for={props.path} id={`${idOf(props.path)}-errors`}>
      {own.map((i) => (
        <li key={i.message}>{i.message}</li>
      ))}
    </ul>
  );
}

interface FieldProps extends StepProps {
  label: string;
  path: string;
  kind?: 'text' | 'number' | 'textarea';
  hint?: string;
  placeholder?: string;
}

export function Field(props: FieldProps) {
  const value = getIn(props.doc, props.path);
  const id = idOf(props.path);
  const invalid = issuesFor(props.issues, props.path).length > 0;
  const onInput = (raw: string) => {
    // Empty means "not set": the schema's default applies, exactly as in a hand-written file.
    if (raw === '') return props.edit(setIn(props.doc, props.path, undefined));
    const parsed = props.kind === 'number' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    props.edit(setIn(props.doc, props.path, parsed));
  };
  const common = {
    id,
    name: props.path,
    'data-field': props.path,
    'aria-invalid': invalid,
    'aria-describedby': invalid ? `${id}-errors` : undefined,
    value: value === undefined || value === null ? '' : String(value),
    placeholder: props.placeholder,
    onInput: (e: Event) => onInput((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class={invalid ? 'field invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      {props.kind === 'textarea' ? <textarea rows={3} {...common} /> : <input type="text" {...common} />}
      {props.hint ? <p class="hint">{props.hint}</p> : null}
      <FieldErrors issues={props.issues} path={props.path} />
    </div>
  );
}

export function SelectField(
  props: StepProps & { label: string; path: string; options: Array<string | number> },
) {
  const id = idOf(props.path);
  const value = getIn(props.doc, props.path);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        data-field={props.path}
        value={value === undefined ? '' : String(value)}
        onChange={(e) => {
          const raw = (e.currentTarget as HTMLSelectElement).value;
          const option = props.options.find((o) => String(o) === raw);
          props.edit(setIn(props.doc, props.path, option === undefined || raw === '' ? undefined : option));
        }}
      >
        <option value="">(default)</option>
        {props.options.map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
      </select>
      <FieldErrors issues={props.issues} path={props.path} />
    </div>
  );
}

/** Issues of this step that no field above shows (an object-level refinement, an unknown key). */
export function OtherIssues(props: { issues: ConfigIssue[]; shown: readonly string[] }) {
  const rest = props.issues.filter((i) => !props.shown.includes(i.path));
  if (rest.length === 0) return null;
  return (
    <ul class="field-errors step-errors" data-error-for="(step)">
      {rest.map((i) => (
        <li key={i.path + i.message}>
          <code>{i.path}</code>: {i.message}
        </li>
      ))}
    </ul>
  );
}

export function Section(props: { title: string; children: ComponentChildren }) {
  return (
    <section class="card">
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}
