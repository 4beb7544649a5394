/**
 * XML for the vim25 SOAP API, on fast-xml-parser: requests are built from ordered JS objects by
 * XMLBuilder (every text and attribute value escaped; nothing is concatenated by hand), replies are
 * parsed into a generic tree that keeps `xsi:type`, which typed decoders (../vim/decode.ts) read.
 *
 * Request values: `XmlIn` objects whose key order is the WSDL's element order (vCenter validates
 * the order of a sequence). Special keys: `@_type` (a managed object reference's type attribute),
 * `@_xsi:type` (the concrete type of a polymorphic value) and `#text`.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

export const NS_SOAP = 'http://schemas.xmlsoap.org/soap/envelope/';
export const NS_XSD = 'http://www.w3.org/2001/XMLSchema';
export const NS_XSI = 'http://www.w3.org/2001/XMLSchema-instance';
export const NS_VIM = 'urn:vim25';

/** A value to encode: scalars become text, arrays repeat the element, undefined is left out. */
export type XmlIn = string | number | bigint | boolean | undefined | null | XmlInObject | XmlIn[];
export interface XmlInObject {
  [key: string]: XmlIn;
}

/** XML 1.0 cannot carry these characters at all, escaped or not. */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export class XmlEncodingError extends Error {
  override readonly name = 'XmlEncodingError';
}

/** Scalars to strings, undefined dropped, strings checked for characters XML cannot carry. */
function normalise(value: XmlIn, path: string): unknown {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    if (NOT_XML.test(value)) throw new XmlEncodingError(`the value of ${path} contains a control character that XML cannot carry`);
    return value;
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new XmlEncodingError(`the value of ${path} is not a finite number`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map((v, i) => normalise(v, `${path}[${i}]`)).filter((v) => v !== undefined);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const n = normalise(v, `${path}.${k}`);
    if (n !== undefined) out[k] = n;
  }
  return out;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  suppressEmptyNode: false,
  suppressBooleanAttributes: false,
  processEntities: true,
  format: false,
});

/** The SOAP envelope of one vim25 method call. */
export function buildEnvelope(method: string, body: XmlInObject): string {
  const tree = {
    'soapenv:Envelope': {
      '@_xmlns:soapenv': NS_SOAP,
      '@_xmlns:xsd': NS_XSD,
      '@_xmlns:xsi': NS_XSI,
      'soapenv:Body': { [method]: { '@_xmlns': NS_VIM, ...(normalise(body, method) as object) } },
    },
  };
  return `<?xml version="1.0" encoding="UTF-8"?>${builder.build(tree) as string}`;
}

// --- parsing ---

/** A parsed element: text, or an object of attributes (`@_…`), text (`#text`) and child elements. */
export type XmlNode = string | XmlElement;
export interface XmlElement {
  [key: string]: XmlNode | XmlNode[] | undefined;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  removeNSPrefix: false,
  processEntities: true,
  // Numeric character references (vcsim writes a newline as &#xA;) are decoded only with this on.
  htmlEntities: true,
  trimValues: true,
});

/** A reply that is not the XML we expected: a clear error, never a crash further on. */
export class MalformedReplyError extends Error {
  override readonly name = 'MalformedReplyError';
}

export function parseXml(text: string): XmlElement {
  try {
    // Validating first: a truncated or broken reply is an error, never a half-read tree.
    return parser.parse(text, true) as XmlElement;
  } catch (err) {
    throw new MalformedReplyError(`the reply is not well-formed XML: ${(err as Error).message}`, { cause: err });
  }
}

/** The element name without its namespace prefix. */
export function localName(key: string): string {
  const i = key.indexOf(':');
  return i < 0 ? key : key.slice(i + 1);
}

/** The first child element whose local name is `name` (namespace prefixes ignored). */
export function childByLocalName(node: XmlNode | undefined, name: string): XmlNode | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('@_') || k === '#text') continue;
    if (localName(k) === name) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** Every child element called `name` (a single one and a repeated one alike). */
export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  if (node === undefined || typeof node === 'string') return [];
  const v = node[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return children(node, name)[0];
}

/** The element's text ('' for an empty element). */
export function textOf(node: XmlNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (typeof node === 'string') return node;
  const t = node['#text'];
  if (t === undefined) return '';
  return typeof t === 'string' ? t : undefined;
}

export function attr(node: XmlNode | undefined, name: string): string | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  const v = node[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
}

/** The element's `xsi:type` (any prefix bound to the schema-instance namespace in practice is `xsi`). */
export function xsiType(node: XmlNode | undefined): string | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('@_') && k.endsWith(':type') && typeof v === 'string') return localName(v);
  }
  return undefined;
}

/** The child element names of a node (attributes and text left out). */
export function elementNames(node: XmlNode | undefined): string[] {
  if (node === undefined || typeof node === 'string') return [];
  return Object.keys(node).filter((k) => !k.startsWith('@_') && k !== '#text');
}

/**
 * A parsed node made fit to send back (a device to edit, an import spec): the schema-instance
 * type attribute under whatever prefix the server used becomes `xsi:type` (vcsim writes
 * `XMLSchema-instance:type`), and namespace declarations are dropped.
 */
export function toRequestValue(node: XmlNode | XmlNode[] | XmlIn | undefined): XmlIn {
  if (node === undefined) return undefined;
  if (Array.isArray(node)) return node.map((n) => toRequestValue(n));
  // Scalars pass through: request values built here may carry numbers and booleans.
  if (typeof node !== 'object' || node === null) return node as XmlIn;
  const out: XmlInObject = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('@_xmlns')) continue;
    if (k.startsWith('@_') && k !== '@_type' && k.endsWith(':type')) {
      out['@_xsi:type'] = typeof v === 'string' ? requestTypeName(v) : undefined;
      continue;
    }
    out[k] = k.startsWith('@_') || k === '#text' ? (v as string) : toRequestValue(v as XmlNode | XmlNode[]);
  }
  return out;
}

const XSD_TYPES = new Set(['string', 'int', 'long', 'short', 'byte', 'boolean', 'float', 'double', 'dateTime', 'base64Binary', 'anyURI', 'anyType']);

/** A type name as we declare prefixes: XML Schema built-ins as `xsd:…`, vim25 types unprefixed. */
function requestTypeName(value: string): string {
  const local = localName(value);
  return XSD_TYPES.has(local) && value.includes(':') ? `xsd:${local}` : local;
}
