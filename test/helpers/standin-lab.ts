// A whole pvelab lab on Proxmox stand-in nodes inside a lab namespace, built by the real CLI:
//   1. `pvelab up --until nodes.install` installs the stand-in ISO (built with the control overlay) on
//      three TCG nodes whose domains carry the stand-in's per-node control channels (through the lab
//      file's libvirt.extraDeviceXml with its {node} placeholder — the power-user hook);
//   2. the stand-in control plane starts with the root password pvelab generated (it is what the
//      installed nodes have) and the lab's SAN facts, at an HA time scale;
//   3. `pvelab up` builds the Proxmox part over SSH: cluster, storages, Apache container, HA.
// Callers assert on the result from outside the product.
import { existsSync, readFileSync } from 'node:fs';
import { afterEach } from 'vitest';
import { join } from 'node:path';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames, type LabNames } from '../../lab/config/names.js';
import type { LabNs } from './labns.js';
import { INSTALL_STEP, type PvelabHome, runPvelab, writeLabFile } from './pvelab.js';
import type { RunResult } from './run.js';
import { STANDIN_OVERLAY, type StandinCluster, standinChannelXml, startStandinCluster } from '../standin/control/live/standin.js';
import { buildStandin } from '../standin/harness.js';

const GiB = 2 ** 30;

export interface StandinLabOptions {
  name: string;
  cidr: string;
  release?: string;
  /** HA time scale of the stand-in (0.1: fence delay 6 s, lock lifetime 12 s). */
  scale?: number;
  /** Extra lab-file keys (merged over the defaults below). */
  lab?: Record<string, unknown>;
}

export interface StandinLab {
  file: string;
  names: LabNames;
  spec: Record<string, unknown>;
  password: string;
  control: StandinCluster;
  /** The two `up` runs (install, then the Proxmox part). */
  upInstall: RunResult;
  up: RunResult;
}

/** The lab file for stand-in nodes: TCG, qcow2 roots (no host device-mapper), small disks. */
export function standinLabSpec(h: PvelabHome, ns: LabNs, o: StandinLabOptions, iso: string): Record<string, unknown> {
  return {
    name: o.name,
    pve: { iso },
    network: { cidr: o.cidr },
    libvirt: { uri: 'qemu:///system', domainType: 'qemu', cpu: { model: 'qemu64' }, graphics: 'vnc', extraDeviceXml: standinChannelXml(ns.dir, '{node}') },
    storage: { layout: 'qcow2', dir: h.imagesDir, lunGiB: 8 },
    nodeDefaults: { vcpus: 1, memoryMiB: 2048, rootGiB: 16, zfsGiB: 4 },
    guest: { diskGiB: 2 },
    timeouts: { installS: 900, sshS: 300, quorumS: 300, haS: 300 },
    failover: { probeIntervalMs: 100, trialTimeoutS: 240, settleS: 2 },
    ...o.lab,
  };
}

export async function buildStandinLab(ns: LabNs, h: PvelabHome, o: StandinLabOptions): Promise<StandinLab> {
  const release = o.release ?? '9.2';
  const iso = await buildStandin(release, STANDIN_OVERLAY);
  const spec = standinLabSpec(h, ns, o, iso);
  const file = writeLabFile(h, spec);
  const names = labNames(resolveLab(parseLabObject(spec), []), h.home);
  const upInstall = await runPvelab(ns, h, ['up', '--until', INSTALL_STEP], { labFile: file, timeoutMs: 20 * 60_000 });
  if (upInstall.exitCode !== 0) throw new Error(`pvelab up --until ${INSTALL_STEP} failed (${upInstall.exitCode}):\n${upInstall.stderr}`);
  const password = (JSON.parse(readFileSync(join(h.home, o.name, 'secrets.json'), 'utf8')) as { rootPassword: string }).rootPassword;
  const zfsGiB = (spec['nodeDefaults'] as { zfsGiB: number }).zfsGiB;
  const lunGiB = (spec['storage'] as { lunGiB: number }).lunGiB;
  const control = await startStandinCluster({
    ns: { uri: ns.uri, dir: ns.dir },
    release,
    scale: o.scale ?? 0.1,
    nodes: names.nodes.map((n) => ({ name: n.name, domain: n.domain, ip: n.ip, gateway: names.network.gateway, prefix: names.network.prefix, mac: n.mac, password, disks: { vdb: zfsGiB * GiB } })),
    san: [{ portal: `${names.iscsi.portal}:3260`, target: names.iscsi.iqn, tid: 1, luns: [{ lun: 1, size: lunGiB * GiB }] }],
  });
  await control.waitNodesUp(10 * 60_000);
  const up = await runPvelab(ns, h, ['up'], { labFile: file, timeoutMs: 30 * 60_000 });
  return { file, names, spec, password, control, upInstall, up };
}

/** Registers an afterEach that prints the tail of every node's serial console when a test failed
 *  (what the nodes were doing: boot, watchdog reset, network). */
export function serialLogsOnFailure(getLab: () => StandinLab | undefined, lines = 40): void {
  afterEach((ctx) => {
    const lab = getLab();
    if (ctx.task.result?.state !== 'fail' || !lab) return;
    for (const n of lab.names.nodes) {
      const log = existsSync(n.serialLog) ? readFileSync(n.serialLog, 'utf8') : '(no serial log)';
      console.log(`--- ${n.name} serial log (last ${lines} lines) ---\n${log.split('\n').slice(-lines).join('\n')}`);
    }
  });
}
