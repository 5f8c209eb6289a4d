// Step: one libvirt domain per node, defined (not started) for installation: installer CD first, the
// node's answer medium in the second drive, root disk per storage.layout, the ZFS data disk, and
// on_reboot=destroy so the installer's final reboot stops the VM (the install step then switches the
// domain to the run phase with defineNodeDomain(ctx, i, 'run') and starts it).
// check(): done when every node's domain exists with our mark and matches the lab (type, vCPUs,
//          memory, MAC, network); a same-named domain without our mark, or a mismatch, is drift.
// apply(): defines the missing ones (validated against libvirt's schema).
// undo():  powers off and undefines every domain marked for this lab (by the mark alone), NVRAM too.
import { dirname } from 'node:path';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { need } from '../core/step.js';
import { isoSource } from '../iso/source.js';
import { summarizeDomain } from '../libvirt/devices.js';
import type { DomainInfo } from '../libvirt/driver.js';
import { type NodeDomainOptions, nodeDomainView } from '../libvirt/lab-views.js';
import { isOurs } from '../libvirt/marks.js';
import { ownedDomains, removeDomain } from '../libvirt/owned.js';
import { renderDomainXml } from '../libvirt/render.js';

export interface DomainsStepOptions {
  /** The prepared installer ISO (default: the iso.prepare step's output). */
  installerIso?: (ctx: StepContext) => Promise<string | undefined>;
  /** Extra view options, e.g. kernelBoot for the Proxmox stand-in. */
  view?: (ctx: StepContext, index: number) => Partial<NodeDomainOptions>;
}

const defaultInstallerIso = async (ctx: StepContext) => (await isoSource(ctx)).prepared;

/** The domain XML of node `index` for a phase (pure apart from the options). */
export function nodeDomainXml(ctx: StepContext, index: number, opts: NodeDomainOptions): string {
  return renderDomainXml(nodeDomainView(ctx.lab, ctx.names, index, opts));
}

/** (Re)defines node `index` for a phase; a running domain picks the new definition up at its next start. */
export async function defineNodeDomain(ctx: StepContext, index: number, opts: NodeDomainOptions): Promise<DomainInfo> {
  return need(ctx, 'libvirt').defineDomain(nodeDomainXml(ctx, index, opts), { validate: true });
}

async function mismatch(ctx: StepContext, index: number): Promise<string | undefined> {
  const node = ctx.names.nodes[index]!;
  const have = summarizeDomain(await need(ctx, 'libvirt').domainXml(node.domain, { inactive: true }));
  const diffs: string[] = [];
  if (have.type !== ctx.lab.libvirt.domainType) diffs.push(`type ${have.type} (lab: ${ctx.lab.libvirt.domainType})`);
  if (have.vcpus !== node.vcpus) diffs.push(`${have.vcpus} vCPUs (lab: ${node.vcpus})`);
  if (have.memoryMiB !== node.memoryMiB) diffs.push(`${have.memoryMiB} MiB (lab: ${node.memoryMiB} MiB)`);
  if (!have.macs.includes(node.mac.toLowerCase())) diffs.push(`no NIC with MAC ${node.mac}`);
  if (!have.networks.includes(ctx.names.network.name)) diffs.push(`not on network ${ctx.names.network.name}`);
  return diffs.length ? `${node.domain}: ${diffs.join(', ')}` : undefined;
}

async function inspect(ctx: StepContext): Promise<StepStatus> {
  const lv = need(ctx, 'libvirt');
  const missing: string[] = [];
  for (const [i, node] of ctx.names.nodes.entries()) {
    const d = await lv.getDomain(node.domain);
    if (!d) {
      missing.push(node.domain);
      continue;
    }
    if (!isOurs(d.mark, ctx.lab.name, 'node') || d.mark.node !== node.name)
      return {
        kind: 'drift',
        detail: `a libvirt domain named ${node.domain} exists but was not created by pvelab for node ${node.name} of lab ${ctx.lab.name}`,
        hint: `remove or rename it (virsh undefine ${node.domain}) or choose another lab name`,
      };
    const diff = await mismatch(ctx, i);
    if (diff) return { kind: 'drift', detail: `${diff}`, hint: 'run `pvelab down` and then `pvelab up` to rebuild the nodes with the lab file\'s settings' };
  }
  if (missing.length) return { kind: 'todo', reason: `domains to define: ${missing.join(', ')}` };
  return { kind: 'done', detail: ctx.names.nodes.map((n) => n.domain).join(', ') };
}

export function domainsStep(opts: DomainsStepOptions = {}): Step {
  return {
    id: 'libvirt.domains',
    title: 'Defining the node VMs',
    check: inspect,
    async apply(ctx) {
      const lv = need(ctx, 'libvirt');
      const installerIso = await (opts.installerIso ?? defaultInstallerIso)(ctx);
      for (const [i, node] of ctx.names.nodes.entries()) {
        if (await lv.getDomain(node.domain)) continue; // ours or not, check() decides; never redefine here
        await ctx.host.run(['mkdir', '-p', dirname(node.serialLog)]);
        ctx.progress(`defining ${node.domain} (${node.vcpus} vCPUs, ${node.memoryMiB} MiB, ${ctx.lab.storage.layout} root disk)`);
        await defineNodeDomain(ctx, i, { phase: 'install', installerIso, ...opts.view?.(ctx, i) });
      }
    },
    async undo(ctx) {
      const lv = need(ctx, 'libvirt');
      for (const d of await ownedDomains(lv, ctx.lab.name)) {
        ctx.progress(`removing ${d.name}`);
        await removeDomain(lv, ctx.lab.name, d.name);
      }
    },
    describe(ctx) {
      return ctx.names.nodes.flatMap((n) => [
        `mkdir -p ${dirname(n.serialLog)}`,
        `virsh define --validate <domain ${n.domain}: ${n.vcpus} vCPUs, ${n.memoryMiB} MiB, ${ctx.lab.storage.layout} root, ZFS disk ${n.zfsImage}, installer + ${n.answerIso} CDs>`,
      ]);
    },
  };
}
