// Step: the lab's libvirt network (NAT, DHCP reservations for the nodes, autostart, our mark).
// check(): done when a network of that name carries our mark, matches the lab (bridge, address,
//          reservations), is active and autostarts. A same-named network without our mark, or ours
//          with other settings, is drift (a running network cannot be changed under its guests).
// apply(): defines it if missing, starts it, sets autostart.
// undo():  stops and undefines every network marked for this lab (found by the mark alone).
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { need } from '../core/step.js';
import { labNetworkView } from '../libvirt/lab-views.js';
import { isOurs } from '../libvirt/marks.js';
import { ownedNetworks, removeNetwork } from '../libvirt/owned.js';
import { renderNetworkXml } from '../libvirt/render.js';
import { child, elements, parseXml } from '../libvirt/xml.js';

const DOWN_HINT = 'run `pvelab down` and then `pvelab up` to rebuild the lab network';

/** What we compare between the defined network and the lab: bridge, address, netmask, reservations. */
export function networkShape(xml: string): string {
  const root = parseXml(xml);
  const ip = child(root, 'ip');
  const hosts = elements(child(ip ?? root, 'dhcp') ?? root, 'host')
    .map((h) => `${(h.attrs['mac'] ?? '').toLowerCase()}=${h.attrs['ip'] ?? ''}`)
    .sort();
  return [child(root, 'bridge')?.attrs['name'], ip?.attrs['address'], ip?.attrs['netmask'], ...hosts].join(' ');
}

async function inspect(ctx: StepContext): Promise<StepStatus> {
  const lv = need(ctx, 'libvirt');
  const name = ctx.names.network.name;
  const net = await lv.getNetwork(name);
  if (!net) return { kind: 'todo', reason: `network ${name} is not defined` };
  if (!isOurs(net.mark, ctx.lab.name, 'network'))
    return {
      kind: 'drift',
      detail: `a libvirt network named ${name} exists but was not created by pvelab for lab ${ctx.lab.name}`,
      hint: `remove it (virsh net-destroy ${name}; virsh net-undefine ${name}) or choose another lab name`,
    };
  const want = networkShape(renderNetworkXml(labNetworkView(ctx.lab, ctx.names)));
  const have = networkShape(await lv.networkXml(name, { inactive: true }));
  if (have !== want) return { kind: 'drift', detail: `network ${name} differs from the lab file (have: ${have}; want: ${want})`, hint: DOWN_HINT };
  if (!net.active) return { kind: 'todo', reason: `network ${name} is not started` };
  if (!net.autostart) return { kind: 'todo', reason: `network ${name} does not autostart` };
  return { kind: 'done', detail: `${name} on ${net.bridge ?? ctx.names.network.bridge} (${ctx.names.network.cidr})` };
}

export const networkStep: Step = {
  id: 'libvirt.network',
  title: 'Creating the lab network',
  check: inspect,
  async apply(ctx) {
    const lv = need(ctx, 'libvirt');
    const name = ctx.names.network.name;
    let net = await lv.getNetwork(name);
    if (!net) {
      ctx.progress(`defining network ${name}`);
      net = await lv.defineNetwork(renderNetworkXml(labNetworkView(ctx.lab, ctx.names)));
    }
    if (!isOurs(net.mark, ctx.lab.name, 'network')) return; // check() reports the drift; never touch it
    if (!net.active) {
      ctx.progress(`starting network ${name} (bridge ${ctx.names.network.bridge})`);
      await lv.startNetwork(name);
    }
    if (!net.autostart) await lv.setNetworkAutostart(name, true);
  },
  async undo(ctx) {
    // By mark alone: every network marked for this lab, whatever its name; nothing else.
    const lv = need(ctx, 'libvirt');
    for (const n of await ownedNetworks(lv, ctx.lab.name)) {
      ctx.progress(`removing network ${n.name}`);
      await removeNetwork(lv, ctx.lab.name, n.name);
    }
  },
  describe(ctx) {
    const name = ctx.names.network.name;
    return [`virsh net-define <network ${name}: NAT ${ctx.names.network.cidr} on ${ctx.names.network.bridge}>`, `virsh net-start ${name}`, `virsh net-autostart ${name}`];
  },
};
