// The ownership mark on every libvirt object pvelab creates:
//   <metadata><pvelab:lab xmlns:pvelab="METADATA_NS" name="LAB" role="node|network" node="pve1"/></metadata>
// "Ours" is decided by this mark alone (namespace URI + attributes), never by a name prefix. Pure.
import { METADATA_NS } from '../config/names.js';
import { child, elements, parseXml, qualifiedName, XmlSyntaxError } from './xml.js';

export type MarkRole = 'node' | 'network';

export interface OwnerMark {
  lab: string;
  role: MarkRole;
  /** Node name, for role "node". */
  node?: string | undefined;
}

function markFrom(attrs: Record<string, string>): OwnerMark | undefined {
  const { name, role, node } = attrs;
  if (!name || (role !== 'node' && role !== 'network')) return undefined;
  return node ? { lab: name, role, node } : { lab: name, role };
}

/**
 * Reads the mark from virDomainGetMetadata(ELEMENT, METADATA_NS) output. libvirt returns that element
 * only for our namespace, so any element named "lab" (with or without prefix) is ours to read.
 */
export function markFromMetadata(element: string | null): OwnerMark | undefined {
  if (!element) return undefined;
  try {
    const el = parseXml(element);
    const local = el.name.includes(':') ? el.name.split(':')[1] : el.name;
    return local === 'lab' ? markFrom(el.attrs) : undefined;
  } catch (err) {
    if (err instanceof XmlSyntaxError) return undefined;
    throw err;
  }
}

/** Reads the mark from a full <domain> or <network> document; the namespace URI must be ours. */
export function markFromXml(xml: string, ns: string = METADATA_NS): OwnerMark | undefined {
  let root;
  try {
    root = parseXml(xml);
  } catch (err) {
    if (err instanceof XmlSyntaxError) return undefined;
    throw err;
  }
  const metadata = child(root, 'metadata');
  if (!metadata) return undefined;
  for (const el of elements(metadata)) {
    const q = qualifiedName(el, [root, metadata]);
    if (q.local === 'lab' && q.ns === ns) return markFrom(el.attrs);
  }
  return undefined;
}

/** True when `mark` says the object belongs to `lab` (and, when given, has that role). */
export function isOurs(mark: OwnerMark | undefined, lab: string, role?: MarkRole): mark is OwnerMark {
  return mark !== undefined && mark.lab === lab && (role === undefined || mark.role === role);
}
