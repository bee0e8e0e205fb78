import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ENVELOPE_NAMESPACES, NS } from './namespaces.ts';

/**
 * SOAP 1.2 reading and writing for the simulator. Requests are parsed by a real XML parser and every
 * element is matched by (namespace URI, local name), resolving prefixes through the xmlns declarations
 * in scope, so a client that spells its prefixes differently (or uses default namespaces, as the
 * `onvif` package does) is read the same way.
 */
export interface XmlElement {
  ns: string;
  local: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlElement[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  preserveOrder: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
});

/** preserveOrder output: one key per node (its tag, '#text'), attributes under ':@'. */
type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function toElements(
  nodes: OrderedNode[],
  scope: Map<string, string>,
): { elements: XmlElement[]; text: string } {
  const elements: XmlElement[] = [];
  let text = '';
  for (const node of nodes) {
    const attrs = (node[':@'] ?? {}) as Record<string, string>;
    for (const name of Object.keys(node)) {
      if (name === ':@') continue;
      if (name === '#text') {
        text += String(node[name]);
        continue;
      }
      if (name.startsWith('?') || name.startsWith('!')) continue;
      const inner = new Map(scope);
      for (const [attr, value] of Object.entries(attrs)) {
        if (attr === 'xmlns') inner.set('', value);
        else if (attr.startsWith('xmlns:')) inner.set(attr.slice(6), value);
      }
      const colon = name.indexOf(':');
      const prefix = colon === -1 ? '' : name.slice(0, colon);
      const local = colon === -1 ? name : name.slice(colon + 1);
      const ns = inner.get(prefix);
      if (ns === undefined) throw new SoapReadError(`prefix "${prefix}" of <${name}> is not declared`);
      const plainAttrs: Record<string, string> = {};
      for (const [attr, value] of Object.entries(attrs)) {
        if (attr === 'xmlns' || attr.startsWith('xmlns:')) continue;
        const c = attr.indexOf(':');
        plainAttrs[c === -1 ? attr : attr.slice(c + 1)] = value;
      }
      const sub = toElements((node[name] ?? []) as OrderedNode[], inner);
      elements.push({ ns, local, attrs: plainAttrs, text: sub.text, children: sub.elements });
    }
  }
  return { elements, text };
}

export class SoapReadError extends Error {}

/** The Header and the first Body child of a SOAP 1.2 request; throws SoapReadError for anything else. */
export function readEnvelope(xml: string): { header: XmlElement | null; operation: XmlElement } {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new SoapReadError(`not well-formed XML: ${valid.err.msg}`);
  const { elements } = toElements(parser.parse(xml) as OrderedNode[], new Map([['xml', 'xml']]));
  const envelope = elements[0];
  if (!envelope || envelope.ns !== NS.soap || envelope.local !== 'Envelope') {
    throw new SoapReadError(`expected a SOAP 1.2 Envelope (${NS.soap})`);
  }
  const header = child(envelope, NS.soap, 'Header');
  const body = child(envelope, NS.soap, 'Body');
  const operation = body?.children[0];
  if (!operation) throw new SoapReadError('the Body holds no operation');
  return { header, operation };
}

export function child(el: XmlElement | null | undefined, ns: string, local: string): XmlElement | null {
  return el?.children.find((c) => c.ns === ns && c.local === local) ?? null;
}

export function childText(el: XmlElement | null | undefined, ns: string, local: string): string | undefined {
  return child(el, ns, local)?.text;
}

export function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A SOAP 1.2 envelope with the given header blocks and body content (already serialised). */
export function envelope(body: string, headerBlocks = ''): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope ${ENVELOPE_NAMESPACES}>` +
    `<env:Header>${headerBlocks}</env:Header><env:Body>${body}</env:Body></env:Envelope>`
  );
}

export interface SoapFault {
  /** env:Sender (the client's fault, HTTP 400) or env:Receiver (ours, HTTP 500). */
  code: 'Sender' | 'Receiver';
  /** Qualified subcodes, outermost first, e.g. ['ter:InvalidArgVal', 'ter:NoProfile']. */
  subcodes: string[];
  reason: string;
}

/** A SOAP 1.2 Fault (SOAP 1.2 Part 1 §5.4) as ONVIF Core §5.11 words it. */
export function faultBody(fault: SoapFault): string {
  let code = '';
  for (const sub of [...fault.subcodes].reverse()) {
    code = `<env:Subcode><env:Value>${sub}</env:Value>${code}</env:Subcode>`;
  }
  return (
    `<env:Fault><env:Code><env:Value>env:${fault.code}</env:Value>${code}</env:Code>` +
    `<env:Reason><env:Text xml:lang="en">${escapeXml(fault.reason)}</env:Text></env:Reason></env:Fault>`
  );
}
