import { useState } from 'preact/hooks';
import {
  ApiError,
  type ConfigDocument,
  type ConfigIssue,
  checkConfig,
  type LoadedConfig,
  saveConfig,
} from './api.ts';
import { issuesUnder } from './document-paths.ts';
import { BankStep } from './steps/bank.tsx';
import { ChecklistStep } from './steps/checklist.tsx';
import { IdentityStep } from './steps/identity.tsx';
import { KeysStep } from './steps/keys.tsx';
import { LiveTestStep } from './steps/live-test.tsx';
import { TerminalsStep } from './steps/terminals.tsx';

/**
 * The commissioning wizard. Every "Next" sends the whole document to the agent's own parser
 * (POST /ui/api/config/check) and stays on the step while any issue falls under that step's fields;
 * issues of later steps wait for their step. Nothing is written before "Save".
 */
interface StepDef {
  title: string;
  /** Config paths this step edits; null = nothing to validate. */
  prefixes: string[] | null;
}

const STEPS: StepDef[] = [
  { title: 'Site identity', prefixes: ['site', 'box'] },
  { title: 'Bank endpoint and key', prefixes: ['bank'] },
  { title: 'Box key and enrolment', prefixes: null },
  { title: 'Terminals', prefixes: ['drivers'] },
  { title: 'Review and save', prefixes: [] },
  { title: 'Live terminal test', prefixes: null },
  { title: 'Final checklist', prefixes: null },
];
const SAVE_STEP = 4;

export function Wizard(props: { loaded: LoadedConfig; onLogout(): void }) {
  const [doc, setDoc] = useState<ConfigDocument>(props.loaded.document);
  const [step, setStep] = useState(0);
  const [issues, setIssues] = useState<ConfigIssue[]>([]);
  const [bankFingerprint, setBankFingerprint] = useState(props.loaded.bankKeyFingerprint);
  const [saved, setSaved] = useState<string | null>(null);
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const stepIssues = (all: ConfigIssue[], at: number) => {
    const prefixes = STEPS[at]!.prefixes;
    if (prefixes === null) return [];
    return prefixes.length === 0 ? all : issuesUnder(all, prefixes);
  };

  const edit = (next: ConfigDocument) => {
    setDoc(next);
    setDirty(true);
    setSaved(null);
  };

  const guarded = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) props.onLogout();
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const next = () =>
    guarded(async () => {
      if (STEPS[step]!.prefixes === null) {
        setStep(step + 1);
        return;
      }
      const answer = await checkConfig(doc);
      setIssues(answer.issues ?? []);
      setBankFingerprint(answer.bankKeyFingerprint);
      if (stepIssues(answer.issues ?? [], step).length === 0) setStep(step + 1);
    });

  const save = () =>
    guarded(async () => {
      const answer = await saveConfig(doc);
      setIssues(answer.issues ?? []);
      setBankFingerprint(answer.bankKeyFingerprint);
      if (answer.ok) {
        setSaved(answer.message ?? 'Saved.');
        setDirty(false);
      }
    });

  const shown = stepIssues(issues, step);
  const props_ = { doc, issues: shown, edit };
  return (
    <div class="wizard">
      <nav class="steps">
        <ol>
          {STEPS.map((s, i) => (
            <li key={s.title} class={i === step ? 'current' : ''}>
              <button type="button" onClick={() => setStep(i)}>
                {i + 1}. {s.title}
              </button>
            </li>
          ))}
        </ol>
      </nav>
      <section class="card step" data-step={step}>
        <h2>{STEPS[step]!.title}</h2>
        {step === 0 ? <IdentityStep {...props_} /> : null}
        {step === 1 ? <BankStep {...props_} bankKeyFingerprint={bankFingerprint} /> : null}
        {step === 2 ? <KeysStep boxKeyFingerprint={props.loaded.boxKeyFingerprint} /> : null}
        {step === 3 ? <TerminalsStep {...props_} board={props.loaded.terminals} /> : null}
        {step === SAVE_STEP ? (
          <div>
            <p>
              Saving checks the whole config with the agent's own validation and writes{' '}
              <code>{props.loaded.file}</code> atomically, keeping the previous file as{' '}
              <code>{props.loaded.file}.bak</code>.
            </p>
            {shown.length > 0 ? (
              <ul class="field-errors step-errors" data-error-for="(all)">
                {shown.map((i) => (
                  <li key={i.path + i.message}>
                    <code>{i.path}</code>: {i.message}
                  </li>
                ))}
              </ul>
            ) : null}
            <button type="button" class="primary" onClick={save} disabled={busy}>
              Save config
            </button>
            {saved ? (
              <p class="good" role="status" data-testid="saved">
                {saved}
              </p>
            ) : dirty ? (
              <p class="hint">Unsaved changes.</p>
            ) : null}
          </div>
        ) : null}
        {step === 5 ? <LiveTestStep board={props.loaded.terminals} /> : null}
        {step === 6 ? <ChecklistStep /> : null}
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <div class="actions">
          {step > 0 ? (
            <button type="button" onClick={() => setStep(step - 1)}>
              Back
            </button>
          ) : null}
          {step < STEPS.length - 1 ? (
            <button type="button" class="primary" onClick={next} disabled={busy}>
              Next
            </button>
          ) : null}
        </div>
      </section>
    </div>
  );
}
