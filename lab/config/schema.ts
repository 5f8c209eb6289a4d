// The lab file: the ONLY definition of its shape, defaults and per-field rules. Cross-field rules
// (subnets, addresses, names) live in validate.ts; every derived name lives in names.ts.
import { z } from 'zod';

const labName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,11}$/, 'must be 1-12 characters: lower-case letters, digits and "-", starting with a letter (for example "lab" or "class-a")');
const nodeName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,14}$/, 'must be a host name of 1-15 characters: lower-case letters, digits and "-", starting with a letter (for example "pve1")');
const cidr = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 network in CIDR form, for example "10.77.0.0/24"');
const ipv4 = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'must be an IPv4 address, for example "10.77.0.100"');
const absPath = z.string().regex(/^\//, 'must be an absolute path');

/** PVE release: latest-9, latest-8, or an exact ISO release such as "8.4-1" / "9.1-1". */
export const releaseSpec = z
  .string()
  .regex(/^(latest-(8|9)|(8|9)\.\d+-\d+)$/, 'must be "latest-9", "latest-8" or an exact ISO release such as "8.4-1" (8.2 or newer)')
  .refine((r) => !/^8\.[01]-/.test(r), 'Proxmox VE before 8.2 has no automated installer; use "8.2-1" or newer');

export const KEYBOARDS = [
  'de', 'de-ch', 'dk', 'en-gb', 'en-us', 'es', 'fi', 'fr', 'fr-be', 'fr-ca', 'fr-ch', 'hu', 'is', 'it',
  'jp', 'lt', 'mk', 'nl', 'no', 'pl', 'pt', 'pt-br', 'se', 'si', 'tr',
] as const;

const nodeSchema = z
  .object({
    name: nodeName,
    vcpus: z.int().min(1).max(64).optional().describe('virtual CPUs; default nodeDefaults.vcpus'),
    memoryMiB: z.int().min(2048, 'Proxmox VE needs at least 2048 MiB of RAM per node').max(262144).optional(),
    ip: ipv4.optional().describe('static address; default: .11, .12, … in network.cidr'),
  })
  .strict();

export const labSchema = z
  .object({
    name: labName.default('lab').describe('lab name; every object on the host is named and marked with it'),
    pve: z
      .object({
        release: releaseSpec.default('latest-9'),
        iso: absPath.optional().describe('a local Proxmox VE ISO to use instead of downloading'),
        isoMirror: z.url().default('https://enterprise.proxmox.com/iso/').describe('ISO index with SHA256SUMS'),
        domain: z
          .string()
          .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, 'must be a DNS domain with at least two labels, for example "lab.internal"')
          .default('pvelab.internal'),
        keyboard: z.enum(KEYBOARDS).default('en-us'),
        country: z.string().regex(/^[a-z]{2}$/, 'must be a two-letter lower-case country code, for example "us"').default('us'),
        timezone: z.string().min(1).default('UTC'),
        mailto: z.email('must be an e-mail address').default('root@pvelab.internal'),
        filesystem: z.enum(['ext4', 'xfs', 'zfs']).default('ext4'),
      })
      .strict()
      .prefault({}),
    network: z
      .object({
        cidr: z.union([z.literal('auto'), cidr]).default('auto').describe('lab /24; "auto" picks one that clashes with no host route'),
        dns: ipv4.optional().describe('DNS server for nodes; default the host on the lab network'),
        storageCidr: cidr.optional().describe('optional separate network for iSCSI traffic'),
      })
      .strict()
      .prefault({}),
    nodeDefaults: z
      .object({
        vcpus: z.int().min(1).max(64).default(2),
        memoryMiB: z.int().min(2048, 'Proxmox VE needs at least 2048 MiB of RAM per node').max(262144).default(4096),
        rootGiB: z.int().min(16, 'the Proxmox VE installer needs a root disk of at least 16 GiB').max(4096).default(32),
        zfsGiB: z.int().min(1).max(4096).default(16),
      })
      .strict()
      .prefault({}),
    nodes: z
      .array(nodeSchema)
      .min(3, 'an HA cluster needs at least 3 nodes')
      .max(9)
      .default([{ name: 'pve1' }, { name: 'pve2' }, { name: 'pve3' }]),
    libvirt: z
      .object({
        uri: z.string().min(1).default('qemu:///system'),
        domainType: z.enum(['kvm', 'qemu']).default('kvm').describe('"qemu" = TCG emulation, for hosts without KVM (slow)'),
        cpu: z
          .union([z.enum(['host-passthrough', 'host-model']), z.object({ model: z.string().min(1) }).strict()])
          .default('host-passthrough'),
        firmware: z.enum(['bios', 'uefi']).default('bios'),
        graphics: z.enum(['vnc', 'spice', 'none']).default('vnc'),
        watchdog: z.boolean().default(false).describe('add an i6300esb watchdog device'),
        extraDeviceXml: z.string().optional().describe('extra <devices> XML for every node (power users); "{node}" and "{domain}" are replaced by each node\'s names'),
      })
      .strict()
      .prefault({}),
    storage: z
      .object({
        dir: absPath.optional().describe('directory for the disk images (it must exist; several labs may share it: each keeps its images in <dir>/pvelab-<name>/); default /var/lib/pvelab/<name>/images'),
        layout: z.enum(['lvm', 'qcow2', 'iscsi']).default('lvm').describe('node root disks: LVs on the shared LUN (seed layout), qcow2 files, or one iSCSI LUN each'),
        lunGiB: z.int().min(8).max(65536).default(128),
        chap: z.boolean().default(false).describe('require CHAP on the iSCSI target'),
        zfsPool: z.string().regex(/^[a-z][a-z0-9_-]{0,30}$/, 'must be a ZFS pool name such as "tank"').default('tank'),
      })
      .strict()
      .prefault({}),
    guest: z
      .object({
        vmid: z.int().min(100).max(999999999).default(100),
        hostname: nodeName.default('web'),
        ip: ipv4.optional().describe('default: .100 in network.cidr'),
        memoryMiB: z.int().min(128).max(65536).default(512),
        diskGiB: z.int().min(1).max(1024).default(4),
        storage: z.enum(['shared', 'zfs']).default('shared').describe('shared = LVM on iSCSI; zfs = local ZFS with replication'),
        template: z.string().default('debian-12-standard').describe('template name prefix; the newest matching version is used'),
        offline: z.boolean().default(false).describe('use the host template cache instead of downloading'),
      })
      .strict()
      .prefault({}),
    failover: z
      .object({
        probeIntervalMs: z.int().min(10).max(10000).default(100),
        trialTimeoutS: z.int().min(30).max(3600).default(600),
        settleS: z.int().min(0).max(3600).default(30),
      })
      .strict()
      .prefault({}),
    timeouts: z
      .object({
        installS: z.int().min(60).max(14400).default(1800),
        sshS: z.int().min(10).max(3600).default(600),
        quorumS: z.int().min(10).max(3600).default(300),
        haS: z.int().min(10).max(3600).default(600),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The lab file as written by a user (every field optional). */
export type LabInput = z.input<typeof labSchema>;
/** The lab file after defaults (not yet resolved: network.cidr may still be "auto"). */
export type LabSpec = z.output<typeof labSchema>;
