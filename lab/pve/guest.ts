// The Apache container: template choice, `pct create` argv, config/location parsers, the index page.
// Formats (proxmox.md E; pve-manager PVE/CLI/pveam.pm; pve-container):
//   `pveam available --section system` → "<section> <template> [<arch>]" per line (arch column is newer)
//   GET /nodes/<n>/storage/local/content --content vztmpl → [{volid:"local:vztmpl/<file>",…}]
//   GET /cluster/resources --type vm → [{id:"lxc/100",vmid,node,type:"lxc",status,name,…}]
//   GET /nodes/<n>/lxc/<vmid>/config → {hostname, net0:"name=eth0,bridge=vmbr0,hwaddr=…,ip=…,gw=…,type=veth", rootfs:"<storage>:vm-100-disk-0,size=4G",…}
import type { Lab, LabNames } from '../config/names.js';
import { LabError } from '../core/errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const TEMPLATE_DIR = '/var/lib/vz/template/cache';
export const templateVolid = (file: string) => `local:vztmpl/${file}`;

export function parsePveamAvailable(text: string): { section: string; template: string; arch?: string }[] {
  const out: { section: string; template: string; arch?: string }[] = [];
  for (const line of text.split('\n')) {
    const [section, template, arch] = line.trim().split(/\s+/);
    if (!section || !template || section.startsWith('#') || !/\.tar\.\w+$/.test(template)) continue;
    out.push(arch ? { section, template, arch } : { section, template });
  }
  return out;
}

/** Compares dotted/dashed version strings numerically where both parts are numbers (sort -V like). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/([0-9]+)/);
  const pb = b.split(/([0-9]+)/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    if (/^\d+$/.test(x) && /^\d+$/.test(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Newest template file whose name starts with `<prefix>_` (e.g. "debian-12-standard_12.7-1_amd64.tar.zst"). */
export function newestTemplate(files: readonly string[], prefix: string): string | undefined {
  return files.filter((f) => f.startsWith(`${prefix}_`)).sort(compareVersions).pop();
}

/** Template files present on a storage, from its content listing. */
export function templateFiles(json: unknown): string[] {
  return (Array.isArray(json) ? json.filter(isObj) : []).map((v) => String(v['volid'] ?? '')).filter((v) => v.includes(':vztmpl/')).map((v) => v.slice(v.indexOf(':vztmpl/') + 8));
}

/** Host cache of templates (standard ones and the Apache template built once online). */
export function templateCacheDir(n: LabNames): string {
  return `${n.home}/cache/templates`;
}

/** Name of the Apache-inside template derived from a standard template file. */
export function apacheTemplateName(standardFile: string): string {
  return `pvelab-apache_${standardFile.replace(/\.tar\.\w+$/, '')}.tar.zst`;
}

/** Newest cached Apache template for the lab's template prefix. */
export function newestApacheTemplate(files: readonly string[], prefix: string): string | undefined {
  return newestTemplate(files.filter((f) => f.startsWith('pvelab-apache_') && f.endsWith('.tar.zst')).map((f) => f.slice('pvelab-apache_'.length)), prefix)?.replace(/^/, 'pvelab-apache_');
}

export interface GuestSpec {
  vmid: number;
  hostname: string;
  storage: string;
  net0: string;
}

export function guestSpec(lab: Lab, n: LabNames): GuestSpec {
  return {
    vmid: n.guest.vmid,
    hostname: n.guest.hostname,
    storage: lab.guest.storage === 'zfs' ? n.pve.storageZfs : n.pve.storageLvm,
    net0: `name=eth0,bridge=vmbr0,hwaddr=${n.guest.mac},ip=${n.guest.ip}/${n.network.prefix},gw=${n.network.gateway},type=veth`,
  };
}

/**
 * `pct create` for the lab guest. No password (argv is visible): root logs in with the lab SSH key
 * from `keysFile` on the node. Not started here; guest-apache starts it, HA keeps it running.
 */
export function pctCreateArgv(lab: Lab, n: LabNames, templateFile: string, keysFile: string): string[] {
  const g = guestSpec(lab, n);
  return [
    'pct', 'create', String(g.vmid), templateVolid(templateFile),
    '--hostname', g.hostname,
    '--memory', String(lab.guest.memoryMiB),
    '--cores', '1',
    '--rootfs', `${g.storage}:${lab.guest.diskGiB}`,
    '--net0', g.net0,
    '--nameserver', n.network.dns,
    '--searchdomain', lab.pve.domain,
    '--ssh-public-keys', keysFile,
    '--unprivileged', '1',
    '--features', 'nesting=1',
    '--onboot', '1',
    '--tags', 'pvelab',
    '--start', '0',
  ];
}

/** Where the guest is, from GET /cluster/resources --type vm. */
export function locateGuest(json: unknown, vmid: number): { node: string; type: string; status: string; name?: string } | undefined {
  const r = (Array.isArray(json) ? json.filter(isObj) : []).find((x) => Number(x['vmid']) === vmid);
  if (!r) return undefined;
  const out: { node: string; type: string; status: string; name?: string } = { node: String(r['node']), type: String(r['type']), status: String(r['status'] ?? 'unknown') };
  if (typeof r['name'] === 'string') out.name = r['name'];
  return out;
}

/** "a=1,b=2" → {a:"1",b:"2"}; a leading bare value (rootfs volume) is returned as key "". */
export function parsePropertyString(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) out[''] = part;
    else out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

/** Differences between the container's config and the lab's guest (hostname, MAC, IP, rootfs storage). */
export function guestConfigDiff(config: unknown, g: GuestSpec): string[] {
  if (!isObj(config)) return ['no configuration'];
  const diffs: string[] = [];
  if (config['hostname'] !== g.hostname) diffs.push(`hostname is ${JSON.stringify(config['hostname'] ?? null)}, want ${g.hostname}`);
  const have = parsePropertyString(String(config['net0'] ?? ''));
  const want = parsePropertyString(g.net0);
  for (const k of ['hwaddr', 'ip', 'gw', 'bridge'] as const)
    if ((have[k] ?? '').toUpperCase() !== (want[k] ?? '').toUpperCase()) diffs.push(`net0 ${k} is ${have[k] ?? 'unset'}, want ${want[k]}`);
  const rootStorage = String(config['rootfs'] ?? '').split(':')[0];
  if (rootStorage !== g.storage) diffs.push(`rootfs is on ${rootStorage || 'nothing'}, want ${g.storage}`);
  return diffs;
}

/** The page Apache serves: names the guest, so probes can tell it from any other web server. */
export function indexPage(n: LabNames): string {
  return `<!doctype html>\n<html><head><title>${n.guest.hostname}</title></head>\n<body><h1>${n.guest.hostname}</h1>\n<p>pvelab guest ${n.guest.hostname} (${n.guest.haSid}) of lab ${n.lab}</p></body></html>\n`;
}

export function pageNamesGuest(body: string, n: LabNames): boolean {
  return body.includes(`<h1>${n.guest.hostname}</h1>`) && body.includes(`lab ${n.lab}`);
}

export const INDEX_PATH = '/var/www/html/index.html';

export function pctExec(vmid: number, argv: readonly string[]): string[] {
  return ['pct', 'exec', String(vmid), '--', ...argv];
}

/** `vzdump` archive file in a listing of the dump dir. */
export function vzdumpArchive(lsOutput: string, vmid: number): string {
  const f = lsOutput.split('\n').map((l) => l.trim()).filter((l) => new RegExp(`^vzdump-lxc-${vmid}-.*\\.tar\\.zst$`).test(l)).sort().pop();
  if (!f) throw new LabError(`vzdump left no archive for ${vmid} (listing: ${lsOutput.trim().slice(0, 200) || 'empty'})`);
  return f;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** GET http://<ip>/ from the host (the host is on the lab network). */
export async function httpGet(url: string, timeoutMs = 5000): Promise<HttpAnswer> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  return { status: r.status, body: await r.text() };
}
