/**
 * A small element tree for libvirt's XML (domain, volume, snapshot descriptions): parse into
 * elements with attributes and children in document order, change, and serialise back. Every
 * text and attribute value is escaped on output, so a name or path from a user never changes the
 * structure of a document we send.
 */
import { XMLParser } from 'fast-xml-parser';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text content (elements here hold either text or children). */
  text?: string;
}

export class XmlError extends Error {
  override readonly name = 'XmlError';
}

/** An element; `content` is its text or its children (undefined ones are skipped). */
export function el(name: string, attrs: Record<string, string | number | boolean | undefined> = {}, content?: string | number | (XmlElement | undefined | false)[]): XmlElement {
  const a: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) a[k] = String(v);
  if (Array.isArray(content)) return { name, attrs: a, children: content.filter((c): c is XmlElement => !!c) };
  return content === undefined ? { name, attrs: a, children: [] } : { name, attrs: a, children: [], text: String(content) };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(s: string): string {
  // Characters XML 1.0 cannot carry at all are dropped rather than sent.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Attribute values also keep tabs and line breaks (a parser would turn them into spaces). */
const escapeAttr = (s: string) => escapeXml(s).replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);

export function toXml(e: XmlElement): string {
  const attrs = Object.entries(e.attrs).map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('');
  if (e.children.length) return `<${e.name}${attrs}>${e.children.map(toXml).join('')}</${e.name}>`;
  if (e.text !== undefined && e.text !== '') return `<${e.name}${attrs}>${escapeXml(e.text)}</${e.name}>`;
  return `<${e.name}${attrs}/>`;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
});

type Ordered = Record<string, unknown>;

function convert(node: Ordered): XmlElement | undefined {
  const name = Object.keys(node).find((k) => k !== ':@');
  if (!name || name === '#text' || name.startsWith('?') || name === '#comment') return undefined;
  const attrs = { ...((node[':@'] as Record<string, string> | undefined) ?? {}) };
  const kids = (node[name] as Ordered[] | undefined) ?? [];
  const children: XmlElement[] = [];
  let text: string | undefined;
  for (const k of kids) {
    if ('#text' in k) text = (text ?? '') + String(k['#text']);
    else {
      const c = convert(k);
      if (c) children.push(c);
    }
  }
  // Whitespace between child elements is layout, not content.
  return text !== undefined && children.length === 0 ? { name, attrs, children, text } : { name, attrs, children };
}

/** The root element of `xml`; an XmlError when it has none or is not XML. */
export function parseXml(xml: string, what = 'XML'): XmlElement {
  let parsed: Ordered[];
  try {
    parsed = parser.parse(xml) as Ordered[];
  } catch (err) {
    throw new XmlError(`${what} is not well-formed: ${(err as Error).message}`);
  }
  for (const node of parsed) {
    const e = convert(node);
    if (e) return e;
  }
  throw new XmlError(`${what} has no root element`);
}

/** The name without its namespace prefix (`vr:virtrigaud` → `virtrigaud`). */
export const localName = (e: XmlElement) => e.name.slice(e.name.indexOf(':') + 1);

export function child(e: XmlElement | undefined, name: string): XmlElement | undefined {
  return e?.children.find((c) => c.name === name);
}

export function children(e: XmlElement | undefined, name: string): XmlElement[] {
  return e ? e.children.filter((c) => c.name === name) : [];
}

/** Follows `a/b/c` through first matches. */
export function path(e: XmlElement | undefined, p: string): XmlElement | undefined {
  let cur = e;
  for (const part of p.split('/')) cur = child(cur, part);
  return cur;
}

export const textOf = (e: XmlElement | undefined): string | undefined => e?.text;
