// Shared set-up for the storage integration tests: a private lab namespace with tgtd (labns), the lab
// bridge with the portal address inside it (what the network step makes), and two initiator hosts as
// network namespaces inside the lab namespace — "inhost" on the lab bridge (inside the ACL) and
// "outhost" on a routed link from another subnet (outside the ACL). Everything dies with the namespace.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames, type Lab } from '../../lab/config/names.js';
import { memoryLogger } from '../../lab/core/log.js';
import { LabState } from '../../lab/core/state.js';
import type { Services, StepContext } from '../../lab/core/step.js';
import { LocalRunner } from '../../lab/exec/local.js';
import type { CommandResult, RunOptions, Runner } from '../../lab/exec/runner.js';
import { nsRunner } from '../../lab/storage/prefix-runner.js';
import { storageServices } from '../../lab/storage/services.js';
import { startLabNs, type LabNs } from '../helpers/labns.js';
import type { RunResult } from '../helpers/run.js';

const PROGRAMS: Record<string, string> = {
  tgtd: 'tgt', tgtadm: 'tgt', 'tgt-admin': 'tgt', 'iscsi-ls': 'libiscsi-bin', 'iscsi-inq': 'libiscsi-bin', 'iscsi-readcapacity16': 'libiscsi-bin',
  'qemu-io': 'qemu-utils', 'qemu-img': 'qemu-utils', vgcreate: 'lvm2', vgcfgrestore: 'lvm2', losetup: 'mount', 'mkfs.ext4': 'e2fsprogs',
  nsenter: 'util-linux', unshare: 'util-linux', virsh: 'libvirt-clients', libvirtd: 'libvirt-daemon-system',
};
export const QEMU_ISCSI = '/usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so';

/** The first missing prerequisite of a storage test, named with its package; undefined when all are there. */
export function missingPrereq(programs: string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'root (namespaces, loop devices)';
  const path = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  for (const p of programs) if (!path.some((d) => existsSync(join(d, p)))) return `${p} (apt-get install ${PROGRAMS[p] ?? p})`;
  if (programs.includes('qemu-io') && !existsSync(QEMU_ISCSI)) return `QEMU's iSCSI driver ${QEMU_ISCSI} (apt-get install qemu-block-extra)`;
  return undefined;
}

/** Records every argv (and stdin) that goes through it, for "no secret on argv" assertions. */
export class RecordingRunner implements Runner {
  readonly argvs: string[][] = [];
  constructor(private readonly inner: Runner) {}
  get where() { return this.inner.where; }
  run(argv: readonly string[], opts?: RunOptions): Promise<CommandResult> {
    this.argvs.push([...argv]);
    return this.inner.run(argv, opts);
  }
}

export interface StorageNs {
  ns: LabNs;
  host: RecordingRunner;
  dir: string;
  cidr: string;
  gateway: string;
  inIp: string;
  outIp: string;
  labName: string;
  lab(input?: Record<string, unknown>): Lab;
  ctx(lab: Lab, patch?: Partial<StepContext>): StepContext;
  services: Partial<Services>;
  sh(script: string): Promise<RunResult>;
  /** Runs argv in an initiator netns, with the CHAP secret (if any) in the environment only. */
  initiator(where: 'inhost' | 'outhost', argv: string[], chapPassword?: string): Promise<RunResult>;
  down(): Promise<void>;
}

export async function startStorageNs(label: string, opts: { libvirt?: boolean } = {}): Promise<StorageNs> {
  const ns = await startLabNs({ label, tgtd: true, libvirt: opts.libvirt ?? false });
  const dir = mkdtempSync(join(tmpdir(), `pvelab-${label}-`));
  const { cidr, base, gateway } = await ns.allocSubnet();
  const out = await ns.allocSubnet();
  const labName = `it${process.pid % 100000}`;
  const names0 = labNames(resolveLab(parseLabObject({ name: labName, network: { cidr } }), []), dir);
  const inIp = `${base}.50`;
  const outIp = `${out.base}.2`;
  const sh = (script: string) => ns.exec(['bash', '-euo', 'pipefail', '-c', script]);
  await sh(`
    ip link add ${names0.network.bridge} type bridge; ip addr add ${gateway}/24 dev ${names0.network.bridge}; ip link set ${names0.network.bridge} up
    ip netns add inhost; ip link add in-h type veth peer name eth0 netns inhost
    ip link set in-h master ${names0.network.bridge} up
    ip -n inhost link set lo up; ip -n inhost addr add ${inIp}/24 dev eth0; ip -n inhost link set eth0 up
    ip netns add outhost; ip link add out-h type veth peer name eth0 netns outhost
    ip addr add ${out.gateway}/24 dev out-h; ip link set out-h up
    ip -n outhost link set lo up; ip -n outhost addr add ${outIp}/24 dev eth0; ip -n outhost link set eth0 up
    ip -n outhost route add default via ${out.gateway}
  `);
  const host = new RecordingRunner(nsRunner(new LocalRunner(), ns.pid));
  const services = storageServices(host, { confDir: join(dir, 'conf.d'), socketPath: `/proc/${ns.pid}/root/run/tgtd/socket.0` });
  await sh(`mkdir -p ${join(dir, 'conf.d')} ${join(dir, 'images')}`);
  const home = join(dir, 'home');
  return {
    ns, host, dir, cidr, gateway, inIp, outIp, labName, services,
    sh,
    lab: (input = {}) =>
      resolveLab(parseLabObject({ name: labName, network: { cidr }, nodeDefaults: { rootGiB: 16, zfsGiB: 1 }, ...input, storage: { dir: join(dir, 'images'), lunGiB: 8, ...(input['storage'] as object | undefined) } }), []),
    ctx: (lab, patch = {}) => ({
      lab, names: labNames(lab, home), log: memoryLogger(), host, state: new LabState(join(home, lab.name), lab.name),
      signal: new AbortController().signal, services, progress: () => {}, dryRun: false, ...patch,
    }),
    initiator: (where, argv, chapPassword) =>
      ns.exec(['ip', 'netns', 'exec', where, ...argv], { allowFail: true, timeoutMs: 30_000, env: { ...process.env, ...(chapPassword ? { LIBISCSI_CHAP_PASSWORD: chapPassword } : {}) } }),
    down: async () => {
      await ns.down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** libiscsi URL of a LUN on the lab portal, with the CHAP user when given (the secret goes in the environment). */
export const iscsiUrl = (portal: string, iqn: string, lun = 1, user?: string) => `iscsi://${user ? `${user}@` : ''}${portal}/${iqn}/${lun}`;
