// Host readiness checks, pure: HostFacts (gathered by facts.ts) + the lab → one row per check, each
// failed or warned row with the exact fix. `blocking` rows make `doctor` exit non-zero and stop `up`.
import type { Lab, LabNames } from '../config/names.js';
import { overlaps, parseCidr } from '../config/ipv4.js';
import type { HostRoute } from '../config/load.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface HostFacts {
  uid: number;
  kvm: 'ok' | 'missing' | 'no-access';
  cpuVendor: 'intel' | 'amd' | 'other';
  cpuFlags: { vmx: boolean; svm: boolean };
  /** kvm_intel / kvm_amd "nested" parameter; null when the module is not loaded. */
  nested: { module: 'kvm_intel' | 'kvm_amd'; enabled: boolean } | null;
  memTotalMiB: number;
  memAvailableMiB: number;
  disk: { path: string; freeGiB: number };
  /** program name → absolute path, or null when missing */
  programs: Record<string, string | null>;
  files: Record<string, boolean>;
  libvirtSocket: boolean | null; // null: not a local qemu:///system URI
  port3260: { listening: boolean; process?: string | undefined };
  routes: HostRoute[];
  deviceMapper: boolean;
  iscsiInitiator: boolean;
}

/** Program → Debian/Ubuntu package, and which labs need it. */
export const REQUIRED_PROGRAMS: readonly { program: string; pkg: string; needed: (lab: Lab) => boolean }[] = [
  { program: 'qemu-system-x86_64', pkg: 'qemu-system-x86', needed: () => true },
  { program: 'qemu-img', pkg: 'qemu-utils', needed: () => true },
  { program: 'libvirtd', pkg: 'libvirt-daemon-system', needed: () => true },
  { program: 'virsh', pkg: 'libvirt-clients', needed: () => true },
  { program: 'dnsmasq', pkg: 'dnsmasq-base', needed: () => true },
  { program: 'tgtd', pkg: 'tgt', needed: () => true },
  { program: 'tgtadm', pkg: 'tgt', needed: () => true },
  { program: 'iscsiadm', pkg: 'open-iscsi', needed: (l) => l.storage.layout === 'lvm' },
  { program: 'pvcreate', pkg: 'lvm2', needed: (l) => l.storage.layout === 'lvm' },
  { program: 'lvcreate', pkg: 'lvm2', needed: (l) => l.storage.layout === 'lvm' },
  { program: 'xorriso', pkg: 'xorriso', needed: () => true },
  { program: 'ssh-keygen', pkg: 'openssh-client', needed: () => true },
  { program: 'openssl', pkg: 'openssl', needed: () => true },
];

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const QEMU_ISCSI_MODULE = '/usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so';

/** Rough disk the lab really uses (sparse files grow as nodes write). GiB. */
export function diskNeedGiB(lab: Lab): { used: number; allocated: number } {
  const n = lab.nodes.length;
  const used = 2 + 2 + n * 6 + lab.guest.diskGiB; // ISO + prepared ISO + installed nodes + guest
  const roots = lab.storage.layout === 'lvm' ? 0 : n * lab.nodeDefaults.rootGiB;
  const allocated = 4 + lab.storage.lunGiB + roots + n * lab.nodeDefaults.zfsGiB;
  return { used, allocated };
}

export function runChecks(f: HostFacts, lab: Lab, names: LabNames): DoctorCheck[] {
  const rows: DoctorCheck[] = [];
  const add = (r: DoctorCheck) => rows.push(r);
  const tcg = lab.libvirt.domainType === 'qemu';
  const kvmFail: CheckStatus = tcg ? 'warn' : 'fail';

  add(f.uid === 0
    ? { id: 'root', title: 'running as root', status: 'ok', detail: 'uid 0' }
    : { id: 'root', title: 'running as root', status: 'fail', detail: `uid ${f.uid}: libvirt system domains, tgt and LVM need root`, fix: 'run it as: sudo ./pvelab …' });

  add(f.kvm === 'ok'
    ? { id: 'kvm', title: '/dev/kvm present and usable', status: 'ok', detail: '/dev/kvm opened read-write' }
    : f.kvm === 'missing'
      ? { id: 'kvm', title: '/dev/kvm present and usable', status: kvmFail, detail: 'no /dev/kvm: the kvm module is not loaded or virtualisation is off in the firmware', fix: `modprobe kvm_${f.cpuVendor === 'amd' ? 'amd' : 'intel'} (and enable VT-x/AMD-V in the BIOS/UEFI setup)` }
      : { id: 'kvm', title: '/dev/kvm present and usable', status: kvmFail, detail: '/dev/kvm exists but cannot be opened read-write', fix: 'run pvelab as root (sudo), or add your user to the kvm group' });

  const flag = f.cpuFlags.vmx ? 'vmx' : f.cpuFlags.svm ? 'svm' : null;
  add(flag
    ? { id: 'cpu-flags', title: 'hardware virtualisation flag (vmx/svm)', status: 'ok', detail: `${flag} present` }
    : {
        id: 'cpu-flags',
        title: 'hardware virtualisation flag (vmx/svm)',
        status: kvmFail,
        detail: 'the CPU shows neither vmx nor svm, so KVM cannot run the Proxmox nodes, and the nodes could not run their own VMs (nested virtualisation)',
        fix: 'enable Intel VT-x / AMD-V in the firmware setup; if this machine is itself a VM, give it a host-passthrough CPU with nested virtualisation. Without it, only libvirt.domainType: qemu (TCG, very slow) is possible',
      });

  if (flag) {
    const mod = flag === 'vmx' ? 'kvm_intel' : 'kvm_amd';
    add(f.nested?.enabled
      ? { id: 'nested', title: 'nested virtualisation', status: 'ok', detail: `${mod} nested=1` }
      : {
          id: 'nested',
          title: 'nested virtualisation',
          status: 'warn',
          detail: f.nested ? `${mod} is loaded with nested=0: the Proxmox nodes can run containers but not VMs` : `${mod} is not loaded`,
          fix: `echo "options ${mod} nested=1" > /etc/modprobe.d/pvelab-nested.conf && modprobe -r ${mod} && modprobe ${mod}   (stop all VMs first; or run sudo scripts/host-setup.sh)`,
        });
  }

  const memNeed = lab.nodes.reduce((s, _n, i) => s + (names.nodes[i]?.memoryMiB ?? 0), 0) + 2048;
  add(f.memTotalMiB < memNeed
    ? { id: 'memory', title: 'memory', status: 'fail', detail: `${gib(f.memTotalMiB)} GiB installed, the lab needs ${gib(memNeed)} GiB (nodes + 2 GiB for the host)`, fix: 'lower nodeDefaults.memoryMiB (≥ 2048) in the lab file, or add RAM' }
    : f.memAvailableMiB < memNeed
      ? { id: 'memory', title: 'memory', status: 'warn', detail: `${gib(f.memAvailableMiB)} GiB available now, the lab needs ${gib(memNeed)} GiB`, fix: 'close other programs or VMs before `pvelab up`' }
      : { id: 'memory', title: 'memory', status: 'ok', detail: `${gib(f.memAvailableMiB)} GiB available, ${gib(memNeed)} GiB needed` });

  const need = diskNeedGiB(lab);
  add(f.disk.freeGiB < need.used
    ? { id: 'disk', title: 'free disk', status: 'fail', detail: `${f.disk.freeGiB.toFixed(1)} GiB free at ${f.disk.path}, the lab writes about ${need.used} GiB`, fix: 'free space there, or set storage.dir to a larger filesystem' }
    : f.disk.freeGiB < need.allocated
      ? { id: 'disk', title: 'free disk', status: 'warn', detail: `${f.disk.freeGiB.toFixed(1)} GiB free at ${f.disk.path}: enough for the ~${need.used} GiB the lab writes, not for its ${need.allocated} GiB of sparse disks if they fill up`, fix: 'fine for classes; lower storage.lunGiB or move storage.dir for heavy use' }
      : { id: 'disk', title: 'free disk', status: 'ok', detail: `${f.disk.freeGiB.toFixed(1)} GiB free at ${f.disk.path}` });

  const missing = REQUIRED_PROGRAMS.filter((p) => p.needed(lab) && !f.programs[p.program]);
  const extraPkgs: string[] = [];
  if (lab.libvirt.firmware === 'uefi' && !f.files[OVMF_CODE]) extraPkgs.push('ovmf');
  if (lab.storage.layout === 'iscsi' && !f.files[QEMU_ISCSI_MODULE]) extraPkgs.push('qemu-block-extra');
  const pkgs = [...new Set([...missing.map((p) => p.pkg), ...extraPkgs])];
  add(pkgs.length === 0
    ? { id: 'packages', title: 'required programs', status: 'ok', detail: 'all present' }
    : { id: 'packages', title: 'required programs', status: 'fail', detail: `missing: ${[...missing.map((p) => p.program), ...extraPkgs].join(', ')}`, fix: `apt-get install -y ${pkgs.join(' ')}` });

  if (f.libvirtSocket !== null)
    add(f.libvirtSocket
      ? { id: 'libvirtd', title: 'libvirtd reachable', status: 'ok', detail: `${lab.libvirt.uri} socket present` }
      : { id: 'libvirtd', title: 'libvirtd reachable', status: 'fail', detail: `no libvirt socket for ${lab.libvirt.uri}`, fix: 'systemctl enable --now libvirtd   (or: libvirtd -d)' });

  if (lab.storage.layout === 'lvm') {
    add(f.deviceMapper
      ? { id: 'device-mapper', title: 'device-mapper (host LVM)', status: 'ok', detail: 'available' }
      : { id: 'device-mapper', title: 'device-mapper (host LVM)', status: 'fail', detail: 'the kernel has no device-mapper, so the host cannot create the nodes\' root LVs', fix: 'modprobe dm_mod, or set storage.layout: qcow2 (or iscsi) in the lab file' });
    add(f.iscsiInitiator
      ? { id: 'iscsi-initiator', title: 'iSCSI initiator (host login)', status: 'ok', detail: 'iscsi_tcp available' }
      : { id: 'iscsi-initiator', title: 'iSCSI initiator (host login)', status: 'fail', detail: 'the kernel has no iscsi_tcp module, so the host cannot log in to the lab LUN', fix: 'apt-get install -y open-iscsi && modprobe iscsi_tcp, or set storage.layout: qcow2 (or iscsi)' });
  }

  add(!f.port3260.listening
    ? { id: 'port-3260', title: 'iSCSI port 3260', status: 'ok', detail: 'free (pvelab starts tgtd)' }
    : f.port3260.process === 'tgtd'
      ? { id: 'port-3260', title: 'iSCSI port 3260', status: 'ok', detail: 'tgtd already listens; pvelab adds only its own target' }
      : { id: 'port-3260', title: 'iSCSI port 3260', status: 'fail', detail: `port 3260 is taken by ${f.port3260.process ?? 'another program'}`, fix: 'stop the other iSCSI target (for example LIO: targetcli clearconfig) so tgtd can listen' });

  add(subnetCheck(f.routes, names));
  return rows;
}

function subnetCheck(routes: readonly HostRoute[], names: LabNames): DoctorCheck {
  const lab = parseCidr(names.network.cidr)!;
  const clash = routes.find((r) => {
    if (r.dst === 'default' || r.dev === names.network.bridge) return false;
    const c = parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`);
    return c !== null && overlaps(c, lab);
  });
  return clash
    ? { id: 'subnet', title: 'lab subnet free', status: 'fail', detail: `${names.network.cidr} overlaps the host route ${clash.dst}${clash.dev ? ` on ${clash.dev}` : ''}`, fix: 'set network.cidr to a free /24 in the lab file, or "auto"' }
    : { id: 'subnet', title: 'lab subnet free', status: 'ok', detail: `${names.network.cidr} (bridge ${names.network.bridge}) clashes with no host route` };
}

function gib(mib: number): string {
  return (mib / 1024).toFixed(1);
}

export function blocking(rows: readonly DoctorCheck[]): DoctorCheck[] {
  return rows.filter((r) => r.status === 'fail');
}
