import { useState } from 'preact/hooks';
import { ENROLMENT_REQUEST_URL, fetchEnrolmentRequest } from '../api.ts';

/** The box key never leaves the box: only its public half, in the self-signed enrolment request. */
export function KeysStep(props: { boxKeyFingerprint: string }) {
  const [request, setRequest] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const show = async () => setRequest(await fetchEnrolmentRequest());
  const copy = async () => {
    const text = request ?? (await fetchEnrolmentRequest());
    setRequest(text);
    try {
      await navigator.clipboard.writeText(text);
      setNote('Copied.');
    } catch {
      setNote('The browser refused the clipboard: select the text below and copy it.');
    }
  };
  return (
    <div>
      <p>
        Box key fingerprint (SM3): <code data-testid="box-fingerprint">{props.boxKeyFingerprint}</code>
      </p>
      <p>
        Give the bank the enrolment request (box id, site id, public key, signed by the box key); confirm the
        fingerprint with them out of band.
      </p>
      <div class="actions">
        <a class="button" href={ENROLMENT_REQUEST_URL} download>
          Download enrolment request
        </a>
        <button type="button" onClick={copy}>
          Copy enrolment request
        </button>
        <button type="button" onClick={show}>
          Show enrolment request
        </button>
      </div>
      {note ? <p class="note">{note}</p> : null}
      {request ? (
        <pre class="request" data-testid="enrolment-request">
          {request}
        </pre>
      ) : null}
    </div>
  );
}
