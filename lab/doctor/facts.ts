// Gathers HostFacts from this machine: /proc, /sys, /dev, PATH. Read-only; never starts anything.
import { constants as fsc } from 'node:fs';
import { access, open, readFile, readdir, readlink, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Lab, LabNames } from '../config/names.js';
import type { HostRoute } from '../config/load.js';
import type { Runner } from '../exec/runner.js';
import { OVMF_CODE, QEMU_ISCSI_MODULE, REQUIRED_PROGRAMS, type HostFacts } from './checks.js';

const EXTRA_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export async function which(program: string, envPath = process.env['PATH'] ?? ''): Promise<string | null> {
  for (const dir of [...envPath.split(':').filter(Boolean), ...EXTRA_PATH]) {
    const p = join(dir, program);
    if (await access(p, fsc.X_OK).then(() => true, () => false)) return p;
  }
  return null;
}

const read = (p: string) => readFile(p, 'utf8').catch(() => '');
const exists = (p: string) => stat(p).then(() => true, () => false);

async function kvmState(): Promise<HostFacts['kvm']> {
  if (!(await exists('/dev/kvm'))) return 'missing';
  try {
    const fh = await open('/dev/kvm', fsc.O_RDWR);
    await fh.close();
    return 'ok';
  } catch {
    return 'no-access';
  }
}

/** Parses /proc/cpuinfo for the vendor and the vmx/svm flags. */
export function parseCpuinfo(text: string): Pick<HostFacts, 'cpuVendor' | 'cpuFlags'> {
  const vendor = /vendor_id\s*:\s*(\S+)/.exec(text)?.[1] ?? '';
  const flags = new Set((/^flags\s*:(.*)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/));
  return {
    cpuVendor: vendor === 'GenuineIntel' ? 'intel' : vendor === 'AuthenticAMD' ? 'amd' : 'other',
    cpuFlags: { vmx: flags.has('vmx'), svm: flags.has('svm') },
  };
}

export function parseMeminfo(text: string): { totalMiB: number; availableMiB: number } {
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { totalMiB: Math.round(kb('MemTotal') / 1024), availableMiB: Math.round(kb('MemAvailable') / 1024) };
}

/** Inodes of sockets listening on a TCP port, from /proc/net/tcp{,6} text. */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    if (f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A') out.push(f[9]!);
  }
  return out;
}

async function portOwner(port: number): Promise<HostFacts['port3260']> {
  const inodes = listeningInodes((await read('/proc/net/tcp')) + '\n' + (await read('/proc/net/tcp6')).split('\n').slice(1).join('\n'), port);
  if (inodes.length === 0) return { listening: false };
  const wanted = new Set(inodes.map((i) => `socket:[${i}]`));
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (wanted.has(target)) return { listening: true, process: (await read(`/proc/${pid}/comm`)).trim() };
    }
  }
  return { listening: true };
}

async function nearestExisting(path: string): Promise<string> {
  let p = path;
  while (!(await exists(p)) && p !== '/') p = dirname(p);
  return p;
}

export async function gatherFacts(lab: Lab, names: LabNames, routes: HostRoute[]): Promise<HostFacts> {
  const cpu = parseCpuinfo(await read('/proc/cpuinfo'));
  const mem = parseMeminfo(await read('/proc/meminfo'));
  const mod = cpu.cpuFlags.svm ? 'kvm_amd' : 'kvm_intel';
  const nestedText = (await read(`/sys/module/${mod}/parameters/nested`)).trim();
  const diskPath = await nearestExisting(names.imagesDir);
  const fs = await statfs(diskPath);
  const programs: Record<string, string | null> = {};
  for (const p of REQUIRED_PROGRAMS) programs[p.program] = await which(p.program);
  const files: Record<string, boolean> = {};
  for (const f of [OVMF_CODE, QEMU_ISCSI_MODULE]) files[f] = await exists(f);
  const uri = lab.libvirt.uri;
  const kernel = (await read('/proc/sys/kernel/osrelease')).trim();
  return {
    uid: process.getuid?.() ?? -1,
    kvm: await kvmState(),
    ...cpu,
    nested: nestedText ? { module: mod, enabled: nestedText === 'Y' || nestedText === '1' } : null,
    memTotalMiB: mem.totalMiB,
    memAvailableMiB: mem.availableMiB,
    disk: { path: diskPath, freeGiB: (fs.bavail * fs.bsize) / 2 ** 30 },
    programs,
    files,
    libvirtSocket: uri === 'qemu:///system' ? await exists('/run/libvirt/libvirt-sock') : null,
    port3260: await portOwner(3260),
    routes,
    // /dev/mapper/control can exist without kernel support (lvm2's tools create the node): ask the kernel.
    deviceMapper: (await read('/proc/misc')).includes('device-mapper'),
    iscsiInitiator:
      (await exists('/sys/module/iscsi_tcp')) ||
      (await readdir(`/lib/modules/${kernel}/kernel/drivers/scsi`).then((l) => l.some((x) => x.startsWith('iscsi_tcp')), () => false)),
  };
}

/** Reads the host's IPv4 routes (all tables) for subnet-clash checks. */
export async function hostRoutes(host: Runner): Promise<HostRoute[]> {
  const r = await host.run(['ip', '-j', '-4', 'route', 'show', 'table', 'all'], { allowExit: [1, 2] }).catch(() => undefined);
  if (!r || r.exitCode !== 0) return [];
  const rows = JSON.parse(r.stdout || '[]') as { dst: string; dev?: string; type?: string }[];
  return rows.filter((x) => x.type === undefined || x.type === 'unicast').map((x) => ({ dst: x.dst, dev: x.dev }));
}

