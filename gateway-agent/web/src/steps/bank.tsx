import { Field, OtherIssues, type StepProps } from '../fields.tsx';

export const BANK_PATHS = ['bank.url', 'bank.publicKeyHex', 'bank.userId'];

export function BankStep(props: StepProps & { bankKeyFingerprint: string | null }) {
  return (
    <div>
      <p>Where the box sends its signed batches, and the bank key it pins to check what the bank signs.</p>
      <Field {...props} label="Bank URL" path="bank.url" placeholder="https://ingest.bank.example" />
      <Field
        {...props}
        label="Bank public key"
        path="bank.publicKeyHex"
        kind="textarea"
        hint="130 hex digits starting with 04, as the bank gave it."
      />
      <p class="fingerprint">
        Bank key fingerprint (SM3):{' '}
        <code data-testid="bank-fingerprint">{props.bankKeyFingerprint ?? '—'}</code>
        <br />
        Read it back to the bank by phone before you save.
      </p>
      <OtherIssues issues={props.issues} shown={BANK_PATHS} />
    </div>
  );
}
