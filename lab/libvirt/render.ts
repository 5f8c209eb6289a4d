// Renders libvirt XML from templates/network.xml.hbs and templates/domain.xml.hbs. Pure apart from
// reading the templates once. Every value goes through handlebars' escaped {{…}}; the only raw insert
// is extraDeviceXml, which must first pass validateDeviceXml (well-formed elements only).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { ConfigError } from '../core/errors.js';
import { elements, parseXml, XmlSyntaxError } from './xml.js';

export interface MarkView {
  ns: string;
  lab: string;
}

export interface NetworkView {
  name: string;
  mark: MarkView;
  /** "nat" for labs; "open" (no firewall rules) or "none" (isolated) for tests. */
  forward: 'nat' | 'open' | 'none';
  bridge: string;
  gateway: string;
  netmask: string;
  /** DNS domain served for the DHCP host names (node FQDNs). */
  dnsDomain?: string | undefined;
  /** Dynamic DHCP ranges; none of them contains a reserved or kept-free address. */
  ranges: { start: string; end: string }[];
  /** Fixed reservations: MAC → IP → host name. */
  hosts: { mac: string; ip: string; name: string }[];
}

export type LifecycleAction = 'destroy' | 'restart' | 'preserve' | 'rename-restart';

export type DiskView = { target: string; bootOrder?: number | undefined; serial?: string | undefined; shareable?: boolean | undefined } & (
  | { kind: 'block'; dev: string }
  | { kind: 'file'; file: string; format: 'qcow2' | 'raw' }
  | { kind: 'iscsi'; iqn: string; lun: number; host: string; port: number; initiatorIqn?: string | undefined }
);

export interface CdromView {
  /** sata target, e.g. "sda". */
  target: string;
  /** ISO path; undefined = empty drive. */
  file?: string | undefined;
  bootOrder?: number | undefined;
}

export interface DomainView {
  type: 'kvm' | 'qemu';
  name: string;
  mark: MarkView & { node: string };
  title?: string | undefined;
  vcpus: number;
  memoryMiB: number;
  cpu: { mode: 'host-passthrough' } | { mode: 'host-model' } | { mode: 'custom'; model: string };
  machine: string;
  firmware: { kind: 'bios' } | { kind: 'uefi'; code: string; varsTemplate: string; nvram: string };
  /** Direct kernel boot: for the TCG test guest and the Proxmox stand-in only, never for real nodes. */
  kernelBoot?: { kernel: string; initrd?: string | undefined; cmdline?: string | undefined } | undefined;
  disks: DiskView[];
  cdroms: CdromView[];
  nic: { network: string; mac: string; linkUp: boolean };
  /** Serial console log file (on the libvirt host). */
  serialLog?: string | undefined;
  graphics: 'vnc' | 'spice' | 'none';
  watchdog: boolean;
  onPoweroff: LifecycleAction;
  onReboot: LifecycleAction;
  onCrash: LifecycleAction;
  /** Power users' extra <devices> XML from the lab file (validated, inserted raw). */
  extraDeviceXml?: string | undefined;
}

const hbs = Handlebars.create();
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);

function templatesDir(): string {
  // lab/libvirt (source) or dist/lab/libvirt (built): templates/ is at the repository root.
  for (const rel of ['../../templates/', '../../../templates/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    try {
      readFileSync(`${dir}domain.xml.hbs`);
      return dir;
    } catch {
      /* try the next layout */
    }
  }
  throw new Error('cannot find the templates/ directory next to pvelab');
}

const cache = new Map<string, Handlebars.TemplateDelegate>();
function template(name: string): Handlebars.TemplateDelegate {
  let t = cache.get(name);
  if (!t) {
    t = hbs.compile(readFileSync(`${templatesDir()}${name}`, 'utf8'), { noEscape: false });
    cache.set(name, t);
  }
  return t;
}

/** Drops the blank lines left by block helpers, so the XML reads cleanly. */
const tidy = (xml: string) => xml.replace(/^\s*\n/gm, '');

export function renderNetworkXml(view: NetworkView): string {
  return tidy(template('network.xml.hbs')(view));
}

export function renderDomainXml(view: DomainView): string {
  if (view.extraDeviceXml !== undefined) validateDeviceXml(view.extraDeviceXml);
  return tidy(template('domain.xml.hbs')({ ...view, extraDeviceXml: view.extraDeviceXml?.trim() }));
}

/**
 * Checks that extra device XML is one or more well-formed elements that stay inside <devices>.
 * Throws ConfigError (libvirt.extraDeviceXml) otherwise.
 */
export function validateDeviceXml(xml: string): void {
  const fail = (message: string): never => {
    throw new ConfigError([{ path: 'libvirt.extraDeviceXml', message }]);
  };
  if (xml.includes('<?')) fail('must not contain processing instructions or an XML declaration');
  let root;
  try {
    root = parseXml(`<devices>${xml}</devices>`);
  } catch (err) {
    if (err instanceof XmlSyntaxError) return fail(`is not well-formed device XML: ${err.message}`);
    throw err;
  }
  if (root.children.some((c) => typeof c === 'string' && c.trim() !== '')) fail('must contain only elements, no loose text');
  if (elements(root).length === 0) fail('contains no element');
}
