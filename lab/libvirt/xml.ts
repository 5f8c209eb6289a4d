// Reading and editing libvirt XML: a small well-formedness-checking parser (elements, attributes, text,
// entities; comments, PIs, CDATA and DOCTYPE are skipped or kept as text), a serializer, and queries.
// Pure. Enough for what libvirt emits; not a general XML library (no DTD entities, no validation).

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

export class XmlSyntaxError extends Error {}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(text: string, at: number): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|&/g, (m, ent: string | undefined) => {
    if (ent === undefined) throw new XmlSyntaxError(`bare "&" near offset ${at}`);
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    const v = ENTITIES[ent];
    if (v === undefined) throw new XmlSyntaxError(`unknown entity ${m} near offset ${at}`);
    return v;
  });
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const NAME = /^[A-Za-z_][\w.:-]*/;
const ATTR = /^\s+([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/;

/** Parses a document with exactly one root element. Throws XmlSyntaxError when it is not well-formed. */
export function parseXml(text: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  const addText = (t: string) => {
    const top = stack[stack.length - 1];
    if (top) top.children.push(t);
    else if (t.trim() !== '') throw new XmlSyntaxError(`text outside the root element near offset ${i}`);
  };
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) {
      addText(decode(text.slice(i), i));
      break;
    }
    if (lt > i) addText(decode(text.slice(i, lt), i));
    i = lt;
    const skip = (close: string, what: string) => {
      const end = text.indexOf(close, i);
      if (end < 0) throw new XmlSyntaxError(`unterminated ${what} at offset ${i}`);
      const body = text.slice(i, end);
      i = end + close.length;
      return body;
    };
    if (text.startsWith('<!--', i)) skip('-->', 'comment');
    else if (text.startsWith('<?', i)) skip('?>', 'processing instruction');
    else if (text.startsWith('<![CDATA[', i)) addText(skip(']]>', 'CDATA').slice(9));
    else if (text.startsWith('<!', i)) throw new XmlSyntaxError(`DOCTYPE and entity declarations are not allowed (offset ${i})`);
    else if (text.startsWith('</', i)) {
      const m = NAME.exec(text.slice(i + 2));
      const end = text.indexOf('>', i);
      const top = stack.pop();
      if (!m || end < 0 || !top || top.name !== m[0] || text.slice(i + 2 + m[0].length, end).trim() !== '')
        throw new XmlSyntaxError(`unexpected closing tag near offset ${i}${top ? ` (open: <${top.name}>)` : ''}`);
      i = end + 1;
    } else {
      const m = NAME.exec(text.slice(i + 1));
      if (!m) throw new XmlSyntaxError(`bad tag near offset ${i}`);
      const el: XmlElement = { name: m[0], attrs: {}, children: [] };
      i += 1 + m[0].length;
      for (let a = ATTR.exec(text.slice(i)); a; a = ATTR.exec(text.slice(i))) {
        if (a[1]! in el.attrs) throw new XmlSyntaxError(`duplicate attribute ${a[1]} near offset ${i}`);
        el.attrs[a[1]!] = decode(a[2] ?? a[3] ?? '', i);
        i += a[0].length;
      }
      const close = /^\s*(\/?)>/.exec(text.slice(i));
      if (!close) throw new XmlSyntaxError(`bad attribute or unterminated tag <${el.name}> near offset ${i}`);
      i += close[0].length;
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (root) throw new XmlSyntaxError(`second root element <${el.name}> near offset ${i}`);
      else root = el;
      if (close[1] !== '/') stack.push(el);
    }
  }
  if (stack.length > 0) throw new XmlSyntaxError(`unclosed element <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new XmlSyntaxError('no root element');
  return root;
}

export function serializeXml(el: XmlElement): string {
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  if (el.children.length === 0) return `<${el.name}${attrs}/>`;
  const body = el.children.map((c) => (typeof c === 'string' ? escapeXml(c) : serializeXml(c))).join('');
  return `<${el.name}${attrs}>${body}</${el.name}>`;
}

export const elements = (el: XmlElement, name?: string): XmlElement[] =>
  el.children.filter((c): c is XmlElement => typeof c !== 'string' && (name === undefined || c.name === name));

export const child = (el: XmlElement, name: string): XmlElement | undefined => elements(el, name)[0];

/** Text content (direct text children only), trimmed. */
export const textOf = (el: XmlElement | undefined): string =>
  el ? el.children.filter((c): c is string => typeof c === 'string').join('').trim() : '';

/** Follows a path of child names: path(domain, 'devices', 'interface'). */
export function path(el: XmlElement, ...names: string[]): XmlElement | undefined {
  let cur: XmlElement | undefined = el;
  for (const n of names) cur = cur && child(cur, n);
  return cur;
}

/** Local name and namespace URI of an element, resolving prefixes through its ancestors (outermost first). */
export function qualifiedName(el: XmlElement, ancestors: readonly XmlElement[]): { local: string; ns: string | undefined } {
  const [prefix, local] = el.name.includes(':') ? (el.name.split(':', 2) as [string, string]) : [undefined, el.name];
  const key = prefix === undefined ? 'xmlns' : `xmlns:${prefix}`;
  for (const scope of [el, ...[...ancestors].reverse()]) if (key in scope.attrs) return { local, ns: scope.attrs[key] };
  return { local, ns: undefined };
}

/** A deep copy, so edits never touch a parsed original. */
export function cloneXml(el: XmlElement): XmlElement {
  return { name: el.name, attrs: { ...el.attrs }, children: el.children.map((c) => (typeof c === 'string' ? c : cloneXml(c))) };
}

/** Replaces (or with `next` undefined, removes) every child named `name`; appends when absent. */
export function setChild(el: XmlElement, name: string, next: XmlElement | undefined): void {
  const at = el.children.findIndex((c) => typeof c !== 'string' && c.name === name);
  el.children = el.children.filter((c) => typeof c === 'string' || c.name !== name);
  if (next) el.children.splice(at < 0 ? el.children.length : at, 0, next);
}
