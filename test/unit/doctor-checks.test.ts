import { describe, expect, it } from 'vitest';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames } from '../../lab/config/names.js';
import { blocking, REQUIRED_PROGRAMS, runChecks, type HostFacts } from '../../lab/doctor/checks.js';
import { listeningInodes, parseCpuinfo, parseMeminfo } from '../../lab/doctor/facts.js';

const lab = resolveLab(parseLabObject({ network: { cidr: '10.88.0.0/24' } }), []);
const names = labNames(lab);
const good: HostFacts = {
  uid: 0,
  kvm: 'ok',
  cpuVendor: 'intel',
  cpuFlags: { vmx: true, svm: false },
  nested: { module: 'kvm_intel', enabled: true },
  memTotalMiB: 32768,
  memAvailableMiB: 30000,
  disk: { path: '/var/lib', freeGiB: 500 },
  programs: Object.fromEntries(REQUIRED_PROGRAMS.map((p) => [p.program, `/usr/bin/${p.program}`])),
  files: {},
  libvirtSocket: true,
  port3260: { listening: false },
  routes: [{ dst: 'default', dev: 'eth0' }, { dst: '192.168.1.0/24', dev: 'eth0' }],
  deviceMapper: true,
  iscsiInitiator: true,
};
const row = (f: Partial<HostFacts>, id: string, l = lab) => runChecks({ ...good, ...f }, l, labNames(l)).find((r) => r.id === id)!;

describe('doctor checks', () => {
  it('passes a ready desktop', () => {
    expect(blocking(runChecks(good, lab, names))).toEqual([]);
  });
  it('explains a CPU without vmx/svm and blocks', () => {
    const r = row({ cpuFlags: { vmx: false, svm: false }, nested: null }, 'cpu-flags');
    expect(r.status).toBe('fail');
    expect(r.fix).toMatch(/VT-x/);
  });
  it('only warns about KVM when the lab asks for TCG', () => {
    const tcg = resolveLab(parseLabObject({ network: { cidr: '10.88.0.0/24' }, libvirt: { domainType: 'qemu', cpu: { model: 'qemu64' } } }), []);
    expect(row({ cpuFlags: { vmx: false, svm: false } }, 'cpu-flags', tcg).status).toBe('warn');
  });
  it('gives the exact nested-virtualisation command', () => {
    expect(row({ nested: { module: 'kvm_intel', enabled: false } }, 'nested').fix).toContain('options kvm_intel nested=1');
    expect(row({ cpuVendor: 'amd', cpuFlags: { vmx: false, svm: true }, nested: { module: 'kvm_amd', enabled: false } }, 'nested').fix).toContain('modprobe kvm_amd');
  });
  it('names the apt packages of missing programs, once each', () => {
    const r = row({ programs: { ...good.programs, tgtd: null, tgtadm: null, xorriso: null } }, 'packages');
    expect(r.status).toBe('fail');
    expect(r.fix).toBe('apt-get install -y tgt xorriso');
  });
  it('checks RAM against the nodes plus a host reserve', () => {
    expect(row({ memTotalMiB: 8192, memAvailableMiB: 8000 }, 'memory').status).toBe('fail');
    expect(row({ memAvailableMiB: 10000 }, 'memory').status).toBe('warn');
  });
  it('blocks on too little disk', () => {
    expect(row({ disk: { path: '/', freeGiB: 5 } }, 'disk').status).toBe('fail');
  });
  it('accepts tgtd on 3260 but not another target', () => {
    expect(row({ port3260: { listening: true, process: 'tgtd' } }, 'port-3260').status).toBe('ok');
    expect(row({ port3260: { listening: true, process: 'targetcli' } }, 'port-3260').status).toBe('fail');
  });
  it('finds a subnet clash but ignores the lab bridge', () => {
    expect(row({ routes: [{ dst: '10.88.0.0/16', dev: 'wg0' }] }, 'subnet').status).toBe('fail');
    expect(row({ routes: [{ dst: '10.88.0.0/24', dev: names.network.bridge }] }, 'subnet').status).toBe('ok');
  });
  it('needs device-mapper and an iSCSI initiator only for the lvm layout', () => {
    expect(row({ deviceMapper: false }, 'device-mapper').status).toBe('fail');
    const q = resolveLab(parseLabObject({ network: { cidr: '10.88.0.0/24' }, storage: { layout: 'qcow2' } }), []);
    expect(runChecks({ ...good, deviceMapper: false, iscsiInitiator: false }, q, labNames(q)).some((r) => r.id === 'device-mapper')).toBe(false);
  });
});

describe('host fact parsers', () => {
  it('reads vendor and flags from /proc/cpuinfo', () => {
    expect(parseCpuinfo('vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm lm\n')).toEqual({ cpuVendor: 'amd', cpuFlags: { vmx: false, svm: true } });
  });
  it('reads /proc/meminfo', () => {
    expect(parseMeminfo('MemTotal:       24576000 kB\nMemFree: 1 kB\nMemAvailable:   20480000 kB\n')).toEqual({ totalMiB: 24000, availableMiB: 20000 });
  });
  it('finds listening sockets on a port in /proc/net/tcp', () => {
    const text = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
      '   0: 00000000:0CBC 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n' +
      '   1: 0100007F:0CBC 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0\n';
    expect(listeningInodes(text, 3260)).toEqual(['12345']);
  });
});
