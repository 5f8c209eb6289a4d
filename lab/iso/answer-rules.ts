// Our own checker of Proxmox's answer-file rules (facts: proxmox.md A.3/A.4 and pve-installer's
// parser/validation history; no upstream code). checkAnswerText() = TOML syntax, then every key
// (answer-keys.ts), then the rules the installer applies before installing: required sections and
// fields, password rules, fqdn, mailto, country/timezone membership, network from-answer vs
// from-dhcp, disk selection and RAID minimum disks, first-boot/webhook requirements.
// Every answer file pvelab writes passes through assertAnswer() before it is used.
import { readFileSync } from 'node:fs';
import { InternalError } from '../core/errors.js';
import { type AnswerIssue, checkKeys } from './answer-keys.js';
import { MIN_DISKS, REQUIRED_SECTIONS } from './answer-schema.js';
import { atLeast, type IsoRelease } from './release.js';
import { type TomlTable, type TomlValue, TomlError, isTable, parseToml } from './toml.js';

export type { AnswerIssue } from './answer-keys.js';

export interface CheckOptions {
  /** Accept "<…>" placeholders for password fields and SSH keys (plan output for review). */
  placeholders?: boolean;
  /** Override the country / timezone lists (default: the host's tzdata, as the ISO build uses). */
  countries?: ReadonlySet<string>;
  timezones?: ReadonlySet<string>;
}

const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const EMAIL_PLACEHOLDER = 'mail@example.invalid';
const CRYPT = /^\$(1|5|6|y|gy|7|2[abxy]?)\$[./0-9A-Za-z$=,]+$/;
const SSH_KEY = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+=* ?.*$/;
const PLACEHOLDER = /^<[^<>]+>$/;

let lists: { countries?: Set<string>; timezones?: Set<string> } | undefined;
/** Country codes and time zones from the host's tzdata (iso3166.tab, zone.tab), like the ISO build. */
export function localeLists(): { countries?: Set<string>; timezones?: Set<string> } {
  if (lists) return lists;
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));
    } catch {
      return undefined;
    }
  };
  const cc = read('/usr/share/zoneinfo/iso3166.tab');
  const zones = read('/usr/share/zoneinfo/zone.tab');
  lists = {
    ...(cc ? { countries: new Set(cc.map((c) => (c[0] ?? '').toLowerCase())) } : {}),
    ...(zones ? { timezones: new Set(zones.map((z) => z[2] ?? '')) } : {}),
  };
  return lists;
}

/** FQDN rules of the installer: ≥ 2 labels, each 1-63 of [A-Za-z0-9-] not starting/ending with "-", host not numeric. */
export function fqdnProblem(fqdn: string): string | undefined {
  if (fqdn.length > 253) return 'is longer than 253 characters';
  const parts = fqdn.split('.');
  const bad = parts.find((p) => !/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(p));
  if (bad !== undefined) return `has an invalid label "${bad}"`;
  if (parts.length < 2) return 'must be a host name with a domain (e.g. "pve1.lab.example"); a bare host name is rejected';
  if (/^\d+$/.test(parts[0] ?? '')) return 'must not have a purely numeric host name';
  return undefined;
}

function ipProblem(ip: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) return v4.slice(1).some((o) => Number(o) > 255 || (o.length > 1 && o.startsWith('0')));
  return !(ip.includes(':') && /^[0-9A-Fa-f:.]+$/.test(ip));
}

function cidrProblem(cidr: string): boolean {
  const [ip, prefix, ...rest] = cidr.split('/');
  if (rest.length || ip === undefined || prefix === undefined || !/^\d{1,3}$/.test(prefix) || ipProblem(ip)) return true;
  return Number(prefix) > (ip.includes(':') ? 128 : 32);
}

const tbl = (v: TomlValue | undefined): TomlTable => (isTable(v) ? v : {});

/** The semantic rules, on a kebab-normalized document. */
function checkRules(d: TomlTable, rel: IsoRelease, opts: CheckOptions): AnswerIssue[] {
  const out: AnswerIssue[] = [];
  const err = (path: string, message: string) => out.push({ path, message, severity: 'error' });
  for (const s of REQUIRED_SECTIONS) if (!isTable(d[s])) err(s, `the [${s}] section is required`);

  const g = tbl(d['global']);
  if (isTable(d['global'])) for (const k of ['country', 'fqdn', 'keyboard', 'mailto', 'timezone']) if (g[k] === undefined) err(`global.${k}`, 'is required');
  const pw = g['root-password'];
  const hash = g['root-password-hashed'];
  const placeholder = (v: TomlValue | undefined) => opts.placeholders === true && typeof v === 'string' && PLACEHOLDER.test(v);
  if (isTable(d['global'])) {
    if (pw !== undefined && hash !== undefined) err('global.root-password', 'root-password and root-password-hashed cannot both be set');
    else if (pw === undefined && hash === undefined)
      err('global.root-password', atLeast(rel, 8, 3) ? 'one of root-password or root-password-hashed must be set' : 'is required');
  }
  if (typeof pw === 'string' && pw.length < 8 && !placeholder(pw)) err('global.root-password', 'must be at least 8 characters long');
  if (typeof hash === 'string' && !CRYPT.test(hash) && !placeholder(hash)) err('global.root-password-hashed', 'must be a crypt(3) hash such as the output of `openssl passwd -6`');
  if (typeof g['mailto'] === 'string') {
    if (!EMAIL.test(g['mailto'])) err('global.mailto', 'does not look like an e-mail address (user@domain.tld)');
    else if (g['mailto'] === EMAIL_PLACEHOLDER) err('global.mailto', `the installer rejects its own placeholder ${EMAIL_PLACEHOLDER}`);
  }
  const fqdn = g['fqdn'];
  if (typeof fqdn === 'string') {
    const p = fqdnProblem(fqdn);
    if (p) err('global.fqdn', p);
  }
  const { countries = localeLists().countries, timezones = localeLists().timezones } = opts;
  const country = g['country'];
  if (typeof country === 'string' && (!/^[a-z]{2}$/.test(country) || (countries && !countries.has(country))))
    err('global.country', `"${country}" is not a known two-letter lower-case country code`);
  const tz = g['timezone'];
  if (typeof tz === 'string' && tz !== 'UTC' && (timezones ? !timezones.has(tz) : !/^[A-Za-z_]+\/[A-Za-z0-9_+/-]+$/.test(tz)))
    err('global.timezone', `"${tz}" is not a time zone the installer knows (use "UTC" or an Area/City zone)`);
  const keys = g['root-ssh-keys'];
  if (Array.isArray(keys))
    keys.forEach((k, i) => {
      if (typeof k === 'string' && !SSH_KEY.test(k) && !placeholder(k)) err(`global.root-ssh-keys[${i}]`, 'is not an OpenSSH public key line');
    });

  const n = tbl(d['network']);
  const fromAnswer = n['source'] === 'from-answer';
  if (fromAnswer) {
    for (const k of ['cidr', 'dns', 'gateway'] as const) if (n[k] === undefined) err(`network.${k}`, 'is required with source = "from-answer"');
    if (!isTable(n['filter']) || Object.keys(n['filter']).length === 0) err('network.filter', 'is required with source = "from-answer" (e.g. filter.ID_NET_NAME_MAC = "*525400123456")');
    if (typeof n['cidr'] === 'string' && cidrProblem(n['cidr'])) err('network.cidr', `"${n['cidr']}" is not an address with prefix length (e.g. "10.0.0.11/24")`);
    for (const k of ['dns', 'gateway'] as const) if (typeof n[k] === 'string' && ipProblem(n[k])) err(`network.${k}`, `"${n[k]}" is not an IP address`);
  } else {
    for (const k of ['cidr', 'dns', 'gateway', 'filter'] as const) if (n[k] !== undefined) err(`network.${k}`, 'is not allowed with source = "from-dhcp"');
  }
  const pin = n['interface-name-pinning'];
  if (isTable(pin) && typeof pin['enabled'] !== 'boolean') err('network.interface-name-pinning.enabled', 'is required');

  const ds = tbl(d['disk-setup']);
  const fs = ds['filesystem'];
  if (isTable(d['disk-setup']) && fs === undefined) err('disk-setup.filesystem', 'is required');
  const list = Array.isArray(ds['disk-list']) ? (ds['disk-list'] as string[]) : [];
  const hasFilter = isTable(ds['filter']);
  if (isTable(d['disk-setup'])) {
    if (list.length === 0 && !hasFilter) err('disk-setup.disk-list', 'either disk-list or filter must be set');
    if (list.length > 0 && hasFilter) err('disk-setup.disk-list', 'disk-list and filter cannot both be set');
  }
  list.forEach((dev, i) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(dev)) err(`disk-setup.disk-list[${i}]`, `"${dev}" must be a device name without /dev/ (e.g. "vda")`);
    if (list.indexOf(dev) !== i) err(`disk-setup.disk-list[${i}]`, `the list of disks contains duplicate device ${dev}`);
  });
  const others = (mine: string) => ['zfs', 'lvm', 'btrfs'].filter((o) => o !== mine && ds[o] !== undefined);
  if (fs === 'ext4' || fs === 'xfs') {
    for (const o of others('lvm')) err(`disk-setup.${o}`, `only lvm options are allowed with ${fs}`);
    if (list.length > 1) err('disk-setup.disk-list', `${fs} installs on exactly one disk`);
    const lvm = tbl(ds['lvm']);
    const sw = lvm['swapsize'];
    const hd = lvm['hdsize'];
    if (sw !== undefined && hd !== undefined && Number(sw) > Number(hd) / 2) err('disk-setup.lvm.swapsize', 'cannot be greater than hdsize / 2');
  } else if (fs === 'zfs' || fs === 'btrfs') {
    for (const o of others(fs)) err(`disk-setup.${o}`, `only ${fs} options are allowed with ${fs}`);
    const raid = tbl(ds[fs])['raid'];
    if (typeof raid !== 'string') err(`disk-setup.${fs}.raid`, `is required with filesystem = "${fs}"`);
    else {
      const min = MIN_DISKS[raid.toLowerCase()] ?? 1;
      if (list.length > 0 && list.length < min) err(`disk-setup.${fs}.raid`, `${raid.toUpperCase()} needs at least ${min} disks, got ${list.length}`);
      if (fs === 'zfs' && raid.toLowerCase() === 'raid10' && list.length % 2 === 1) err('disk-setup.zfs.raid', 'RAID10 needs an even number of disks');
    }
  }

  const fb = d['first-boot'];
  if (isTable(fb)) {
    if (fb['source'] === undefined) err('first-boot.source', 'is required');
    if (fb['source'] === 'from-url' && fb['url'] === undefined) err('first-boot.url', 'is required with source = "from-url"');
  }
  const hook = d['post-installation-webhook'];
  if (isTable(hook) && hook['url'] === undefined) err('post-installation-webhook.url', 'is required');
  return out;
}

/** Every issue of an answer file for a release (errors and warnings). */
export function checkAnswerText(text: string, rel: IsoRelease, opts: CheckOptions = {}): AnswerIssue[] {
  let doc: TomlTable;
  try {
    doc = parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) return [{ path: `(toml ${e.message.split(':')[0]})`, message: e.message, severity: 'error' }];
    throw e;
  }
  const { issues, normalized } = checkKeys(doc, rel);
  return [...issues, ...checkRules(normalized, rel, opts)];
}

export function formatIssues(issues: readonly AnswerIssue[]): string {
  return issues.map((i) => `  ${i.severity === 'warning' ? 'warning: ' : ''}${i.path}: ${i.message}`).join('\n');
}

/** Throws when a file pvelab generated has any issue (warnings included: ours must be clean). */
export function assertAnswer(text: string, rel: IsoRelease, what: string, opts: CheckOptions = {}): void {
  const issues = checkAnswerText(text, rel, opts);
  if (issues.length > 0) throw new InternalError(`${what} breaks Proxmox VE ${rel.id}'s answer-file rules:\n${formatIssues(issues)}`);
}
