// The libvirt driver against a real QEMU/KVM driver: a private libvirtd inside a lab namespace
// (test/helpers/labns.ts), reached from this (root-namespace) process over its qemu+unix socket.
//  1. Every template option combination is defined with VIR_DOMAIN_DEFINE_VALIDATE: libvirt's schema
//     and QEMU driver accept it.
//  2. The product network (NAT + DHCP reservations) and a node domain from the product template, booted
//     as the TCG busybox guest (direct kernel boot, DHCP): started event → HTTP answers from the
//     reserved address → link down → HTTP stops → link up → answers → freeze/thaw → CD-ROM media in
//     and out → ACPI shutdown deadline → destroy → stopped event → undo by mark.
//  3. A remote URI over SSH (qemu+libssh, key auth, pinned host key) to the same daemon, via an sshd
//     inside the namespace: calls and events work; a host key that does not match is refused.
// HTTP probes run inside the namespace (curl via nsenter): NAT mode rejects probes from outside.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames, type Lab, type LabNames } from '../../lab/config/names.js';
import { memoryLogger } from '../../lab/core/log.js';
import { LabState } from '../../lab/core/state.js';
import type { StepContext } from '../../lab/core/step.js';
import { LocalRunner } from '../../lab/exec/local.js';
import { openLibvirt } from '../../lab/libvirt/client.js';
import type { LibvirtDriver } from '../../lab/libvirt/driver.js';
import { nodeDomainView, type NodePhase } from '../../lab/libvirt/lab-views.js';
import { ownedDomains, ownedNetworks } from '../../lab/libvirt/owned.js';
import { renderDomainXml } from '../../lab/libvirt/render.js';
import { defineNodeDomain, domainsStep } from '../../lab/steps/domains.js';
import { networkStep } from '../../lab/steps/network.js';
import { buildBusyboxGuest, type GuestImage, waitForFile } from '../helpers/guest.js';
import { startLabNs, type LabNs } from '../helpers/labns.js';
import { run, waitFor } from '../helpers/run.js';
import { makeSshKey } from '../helpers/testhost.js';
import { LibvirtError } from '../../lab/libvirt/errors.js';

const PROGRAMS: [string, string][] = [
  ['unshare', 'util-linux'], ['nsenter', 'util-linux'], ['setpriv', 'util-linux'], ['libvirtd', 'libvirt-daemon-system'],
  ['virtlogd', 'libvirt-daemon-system'], ['qemu-system-x86_64', 'qemu-system-x86'], ['qemu-img', 'qemu-utils'],
  ['dnsmasq', 'dnsmasq-base'], ['curl', 'curl'], ['xorriso', 'xorriso'], ['cpio', 'cpio'], ['busybox', 'busybox-static'],
];
function missingPrereq(): string | undefined {
  if (process.getuid?.() !== 0) return 'root (namespaces)';
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  for (const [p, pkg] of PROGRAMS) if (!dirs.some((d) => existsSync(join(d, p)))) return `${p} (apt-get install ${pkg})`;
  if (!existsSync('/usr/share/OVMF/OVMF_CODE_4M.fd')) return 'OVMF (apt-get install ovmf)';
  return undefined;
}
const missing = missingPrereq();

const scratch = mkdtempSync(join(tmpdir(), 'pvelab-lv-qemu-'));
let ns: LabNs;
let lv: LibvirtDriver;
let guest: GuestImage;

beforeAll(async () => {
  if (missing) return;
  [ns, guest] = await Promise.all([startLabNs({ label: 'libvirt-qemu' }), buildBusyboxGuest()]);
  lv = await openLibvirt(ns.uri);
});
afterAll(async () => {
  await lv?.close();
  await ns?.down();
  rmSync(scratch, { recursive: true, force: true });
});

function makeLab(name: string, cidr: string, spec: Record<string, unknown> = {}): { lab: Lab; names: LabNames } {
  const lab = resolveLab(parseLabObject({ name, network: { cidr }, ...spec }), []);
  return { lab, names: labNames(lab, join(scratch, 'home')) };
}

function ctxFor(l: { lab: Lab; names: LabNames }): StepContext {
  return {
    lab: l.lab, names: l.names, log: memoryLogger(), host: new LocalRunner(), state: new LabState(l.names.stateDir, l.lab.name),
    signal: new AbortController().signal, services: { libvirt: lv }, progress: () => {}, dryRun: false,
  };
}

/** One HTTP GET from inside the namespace; the body, or undefined when it does not answer within 2 s. */
async function probe(ip: string): Promise<string | undefined> {
  const r = await ns.exec(['curl', '-s', '-m', '2', `http://${ip}/`], { allowFail: true, timeoutMs: 10_000 });
  return r.exitCode === 0 ? r.stdout : undefined;
}

describe.skipIf(!!missing)(`libvirt driver on a private qemu:///system${missing ? ` (skipped: ${missing} missing)` : ''}`, () => {
  it('libvirt accepts every template option combination (define --validate)', async () => {
    const cpus = ['host-passthrough', 'host-model', { model: 'qemu64' }] as const;
    let n = 0;
    for (const firmware of ['bios', 'uefi'] as const)
      for (const cpu of cpus)
        for (const graphics of ['vnc', 'spice', 'none'] as const)
          for (const layout of ['lvm', 'qcow2', 'iscsi'] as const) {
            const i = n++;
            const phase: NodePhase = i % 2 ? 'install' : 'run';
            const domainType = typeof cpu === 'string' ? 'kvm' : 'qemu';
            const extra = i % 3 === 0 ? { extraDeviceXml: `<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>` } : {};
            const l = makeLab(`v${i}`, '10.97.0.0/24', { libvirt: { domainType, cpu, firmware, graphics, watchdog: i % 2 === 0, ...extra }, storage: { layout } });
            const kernelBoot = i % 4 === 0 ? { kernel: guest.kernel, initrd: guest.initrd, cmdline: 'console=ttyS0' } : undefined;
            const xml = renderDomainXml(nodeDomainView(l.lab, l.names, 0, { phase, installerIso: '/nonexistent/pve.iso', kernelBoot }));
            const label = JSON.stringify({ firmware, cpu, graphics, layout, phase });
            const d = await lv.defineDomain(xml, { validate: true }).catch((err: unknown) => {
              throw new Error(`${label}: ${err instanceof Error ? err.message : String(err)}`);
            });
            expect(d.mark, label).toEqual({ lab: `v${i}`, role: 'node', node: 'pve1' });
            await lv.undefine(d.name);
          }
    expect(n).toBe(54);
    expect(await lv.listDomains()).toEqual([]);
  });

  it('UEFI: the NVRAM is created from the OVMF template at start and removed with the domain', async () => {
    const l = makeLab('u1', '10.97.1.0/24', {
      libvirt: { domainType: 'qemu', cpu: { model: 'qemu64' }, firmware: 'uefi', graphics: 'none' },
      storage: { layout: 'qcow2', dir: join(scratch, 'uefi') },
      nodeDefaults: { vcpus: 1, memoryMiB: 2048 },
    });
    const node = l.names.nodes[0]!;
    mkdirSync(l.names.imagesDir, { recursive: true });
    mkdirSync(join(l.names.stateDir, 'logs'), { recursive: true });
    for (const img of [node.rootImage, node.zfsImage]) await run(['qemu-img', 'create', '-q', '-f', 'qcow2', img, '16M']);
    // A network of that name must exist for the NIC; an isolated one is enough here.
    await lv.defineNetwork(`<network><name>${l.names.network.name}</name><bridge name='lvu1br'/></network>`);
    await lv.startNetwork(l.names.network.name);
    await lv.defineDomain(renderDomainXml(nodeDomainView(l.lab, l.names, 0, { phase: 'run', answerIso: null })), { validate: true });
    expect(existsSync(node.nvram)).toBe(false);
    await lv.start(node.domain);
    expect(existsSync(node.nvram)).toBe(true);
    await lv.reset(node.domain); // the reset button: still running afterwards
    expect(await lv.domainState(node.domain)).toBe('running');
    await domainsStep().undo!(ctxFor(l));
    expect(await lv.getDomain(node.domain)).toBeUndefined();
    expect(existsSync(node.nvram)).toBe(false);
    await lv.stopNetwork(l.names.network.name);
    await lv.undefineNetwork(l.names.network.name);
  });

  it('boots a node from the product templates; link, freeze, media, shutdown and power faults act on it', async () => {
    const sub = await ns.allocSubnet();
    const l = makeLab('q1', sub.cidr, {
      libvirt: { domainType: 'qemu', cpu: { model: 'qemu64' }, graphics: 'vnc' },
      storage: { layout: 'qcow2', dir: join(scratch, 'images') },
      nodeDefaults: { vcpus: 1, memoryMiB: 2048 },
    });
    const ctx = ctxFor(l);
    const node = l.names.nodes[0]!;
    mkdirSync(l.names.imagesDir, { recursive: true });
    mkdirSync(join(l.names.stateDir, 'logs'), { recursive: true });
    for (const img of [node.rootImage, node.zfsImage]) await run(['qemu-img', 'create', '-q', '-f', 'qcow2', img, '64M']);

    // The lab network exactly as `up` makes it.
    await networkStep.apply(ctx);
    expect(await networkStep.check(ctx)).toMatchObject({ kind: 'done' });

    const started = lv.waitForEvent((e) => e.domain === node.domain && e.type === 'started', { timeoutMs: 60_000 });
    const kernelBoot = { kernel: guest.kernel, initrd: guest.initrd, cmdline: `console=ttyS0 quiet panic=-1 lab_name=${node.name} lab_ip=dhcp` };
    await defineNodeDomain(ctx, 0, { phase: 'run', answerIso: null, kernelBoot });
    await lv.start(node.domain);
    expect((await started).detail).toBe('booted');
    expect(await lv.domainState(node.domain)).toBe('running');

    // DHCP gave the guest its reserved address; both disks are attached; the console is logged.
    expect(await waitFor('the guest to answer HTTP', () => probe(node.ip), 180_000, 500)).toContain(`hello from ${node.name}`);
    const console_ = await waitForFile(node.serialLog, 'LAB-READY', 30_000);
    expect(console_).toMatch(/DISK vda sectors=131072/);
    expect(console_).toMatch(/DISK vdb sectors=131072/);

    // Isolate: link down by MAC → HTTP stops; link up → answers again.
    await lv.setLinkState(node.domain, node.mac, 'down');
    expect(await lv.linkState(node.domain, node.mac)).toBe('down');
    await waitFor('HTTP to stop after link down', async () => ((await probe(node.ip)) === undefined ? true : undefined), 30_000, 200);
    await lv.setLinkState(node.domain, node.mac, 'up');
    expect(await lv.linkState(node.domain, node.mac)).toBe('up');
    expect(await waitFor('HTTP after link up', () => probe(node.ip), 60_000, 200)).toContain(`hello from ${node.name}`);

    // Freeze: suspended → no answer; resumed → answers.
    const suspended = lv.waitForEvent((e) => e.domain === node.domain && e.type === 'suspended', { timeoutMs: 30_000 });
    await lv.suspend(node.domain);
    await suspended;
    expect(await lv.domainState(node.domain)).toBe('paused');
    expect(await probe(node.ip)).toBeUndefined();
    await lv.resume(node.domain);
    expect(await waitFor('HTTP after resume', () => probe(node.ip), 60_000, 200)).toContain('hello from');

    // CD-ROM media in and out of the running domain (live) and its definition (config).
    const isoDir = join(scratch, 'cd');
    mkdirSync(isoDir, { recursive: true });
    writeFileSync(join(isoDir, 'answer.toml'), 'x = 1\n');
    const iso = join(scratch, 'answer.iso');
    await run(['xorriso', '-as', 'mkisofs', '-quiet', '-V', 'PROXMOX-AIS', '-o', iso, isoDir]);
    await lv.setCdrom(node.domain, 'sdb', iso);
    expect(await lv.cdromMedia(node.domain, 'sdb')).toBe(iso);
    expect(await lv.cdromMedia(node.domain, 'sdb', { inactive: true })).toBe(iso);
    await lv.setCdrom(node.domain, 'sdb', null);
    expect(await lv.cdromMedia(node.domain, 'sdb')).toBeNull();
    expect(await lv.cdromMedia(node.domain, 'sdb', { inactive: true })).toBeNull();

    // ACPI shutdown with a deadline: busybox init ignores the power button, so the deadline forces it.
    expect(await lv.shutdown(node.domain, { timeoutMs: 3000, force: true })).toBe('forced');
    expect(await lv.domainState(node.domain)).toBe('shutoff');

    // Power off: started again, then destroyed → stopped event.
    await lv.start(node.domain);
    await waitFor('HTTP after restart', () => probe(node.ip), 180_000, 500);
    const stopped = lv.waitForEvent((e) => e.domain === node.domain && e.type === 'stopped', { timeoutMs: 60_000 });
    await lv.destroy(node.domain);
    expect((await stopped).detail).toBe('destroyed');
    expect(readFileSync(node.serialLog, 'utf8')).toContain('LAB-READY');

    // Teardown by mark: the domain and the network go; a foreign domain stays.
    await lv.defineDomain(`<domain type='qemu'><name>pvelab-q1-pve9</name><memory unit='MiB'>64</memory><os><type arch='x86_64' machine='q35'>hvm</type></os></domain>`);
    await domainsStep().undo!(ctx);
    await networkStep.undo!(ctx);
    expect(await ownedDomains(lv, 'q1')).toEqual([]);
    expect(await ownedNetworks(lv, 'q1')).toEqual([]);
    expect(await lv.getDomain(node.domain)).toBeUndefined();
    expect((await lv.getDomain('pvelab-q1-pve9'))?.mark).toBeUndefined();
    await lv.undefine('pvelab-q1-pve9');
  });
});

const sshMissing = missing ?? (['/usr/sbin/sshd', '/usr/bin/ssh-keygen', '/usr/bin/virt-ssh-helper'].find((p) => !existsSync(p)));

describe.skipIf(!!sshMissing)(`libvirt over SSH (qemu+libssh)${sshMissing ? ` (skipped: ${sshMissing} missing; apt-get install openssh-server libvirt-clients)` : ''}`, () => {
  it('connects with a key and a pinned host key, gets events; refuses a host key that does not match', async () => {
    const dir = join(scratch, 'ssh');
    mkdirSync(dir, { recursive: true });
    const link = await ns.link();
    const client = await makeSshKey(dir, 'client');
    const hostKey = await makeSshKey(dir, 'hostkey');
    const otherKey = await makeSshKey(dir, 'other');
    writeFileSync(join(dir, 'authorized_keys'), `${client.publicKey}\n`);
    const pin = (pub: string) => `${link.nsIp} ${pub.split(' ').slice(0, 2).join(' ')}\n`;
    writeFileSync(join(dir, 'known_hosts'), pin(hostKey.publicKey));
    writeFileSync(join(dir, 'wrong_hosts'), pin(otherKey.publicKey));
    ns.spawn(['/usr/sbin/sshd', '-D', '-e', '-f', '/dev/null', '-h', hostKey.privateKeyPath, '-o', `ListenAddress=${link.nsIp}`,
      '-o', `AuthorizedKeysFile=${join(dir, 'authorized_keys')}`, '-o', 'StrictModes=no', '-o', 'PasswordAuthentication=no',
      '-o', 'KbdInteractiveAuthentication=no', '-o', 'UsePAM=no', '-o', 'UseDNS=no', '-o', 'PermitRootLogin=prohibit-password',
      '-o', `PidFile=${join(dir, 'sshd.pid')}`], { stdio: 'ignore' });
    const uri = (hosts: string) => `qemu+libssh://root@${link.nsIp}/system?keyfile=${client.privateKeyPath}&known_hosts=${join(dir, hosts)}&known_hosts_verify=normal&sshauth=privkey`;
    const remote = await waitFor('sshd in the namespace to accept libvirt connections', () => openLibvirt(uri('known_hosts')).catch(() => undefined), 30_000, 200);
    try {
      expect(await remote.version()).toMatchObject({ type: 'QEMU', uri: uri('known_hosts') });
      const defined = remote.waitForEvent((e) => e.domain === 'pvelab-ssh-1' && e.type === 'defined', { timeoutMs: 30_000 });
      await lv.defineDomain(`<domain type='qemu'><name>pvelab-ssh-1</name><memory unit='MiB'>64</memory><os><type arch='x86_64' machine='q35'>hvm</type></os></domain>`);
      await defined; // defined through the local socket, seen through SSH: one daemon, two transports
      expect((await remote.getDomain('pvelab-ssh-1'))?.state).toBe('shutoff');
      await remote.undefine('pvelab-ssh-1');
      expect(await lv.getDomain('pvelab-ssh-1')).toBeUndefined();
    } finally {
      await remote.close();
    }
    const refused = await openLibvirt(uri('wrong_hosts')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LibvirtError);
    expect((refused as LibvirtError).message).toMatch(/host key/i);
  });
});
