// Template rendering: every option combination of the domain template, and the network template.
// Each rendering is parsed back and checked element by element; names, MACs, IPs and paths must be
// the ones the naming module derives. (That libvirt accepts them is checked for real in
// test/integration/libvirt-qemu.test.ts.)
import { describe, expect, it } from 'vitest';
import { parseIp } from '../../lab/config/ipv4.js';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames, type Lab } from '../../lab/config/names.js';
import { ConfigError } from '../../lab/core/errors.js';
import { summarizeDomain } from '../../lab/libvirt/devices.js';
import { dhcpRanges, labNetworkView, nodeDomainView, type NodePhase } from '../../lab/libvirt/lab-views.js';
import { markFromXml } from '../../lab/libvirt/marks.js';
import { renderDomainXml, renderNetworkXml, validateDeviceXml } from '../../lab/libvirt/render.js';
import { child, elements, parseXml, path, textOf, type XmlElement } from '../../lab/libvirt/xml.js';

const EXTRA = `<channel type="unix"><target type="virtio" name="org.qemu.guest_agent.0"/></channel>`;

function lab(libvirt: Record<string, unknown>, storage: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Lab {
  return resolveLab(parseLabObject({ name: 't1', network: { cidr: '10.99.0.0/24' }, libvirt, storage, ...extra }), []);
}

const FIRMWARE = ['bios', 'uefi'] as const;
const CPU = ['host-passthrough', 'host-model', { model: 'qemu64' }] as const;
const GRAPHICS = ['vnc', 'spice', 'none'] as const;
const LAYOUT = ['lvm', 'qcow2', 'iscsi'] as const;
const PHASE: NodePhase[] = ['install', 'run'];

interface Combo {
  firmware: (typeof FIRMWARE)[number];
  cpu: (typeof CPU)[number];
  graphics: (typeof GRAPHICS)[number];
  layout: (typeof LAYOUT)[number];
  phase: NodePhase;
  watchdog: boolean;
  extra: boolean;
  kernel: boolean;
}

function* combos(): Generator<Combo> {
  for (const firmware of FIRMWARE)
    for (const cpu of CPU)
      for (const graphics of GRAPHICS)
        for (const layout of LAYOUT)
          for (const phase of PHASE)
            for (const watchdog of [false, true])
              for (const extra of [false, true])
                for (const kernel of [false, true]) yield { firmware, cpu, graphics, layout, phase, watchdog, extra, kernel };
}

const disks = (root: XmlElement) => elements(path(root, 'devices')!, 'disk');
const byTarget = (root: XmlElement, dev: string) => disks(root).find((d) => child(d, 'target')?.attrs['dev'] === dev)!;
const bootOrder = (d: XmlElement) => child(d, 'boot')?.attrs['order'];

describe('domain template: every option combination', () => {
  const all = [...combos()];
  it(`covers ${all.length} combinations`, () => expect(all.length).toBe(2 * 3 * 3 * 3 * 2 * 2 * 2 * 2));

  it.each(all.map((c) => [JSON.stringify(c), c] as const))('%s', (_label, c) => {
    const domainType = typeof c.cpu === 'string' ? 'kvm' : 'qemu';
    const l = lab(
      { domainType, cpu: c.cpu, firmware: c.firmware, graphics: c.graphics, watchdog: c.watchdog, ...(c.extra ? { extraDeviceXml: EXTRA } : {}) },
      { layout: c.layout },
    );
    const names = labNames(l, '/srv/pvelab');
    const node = names.nodes[1]!;
    const kernelBoot = c.kernel ? { kernel: '/k/vmlinuz', initrd: '/k/initrd.gz', cmdline: 'console=ttyS0 lab_ip=dhcp' } : undefined;
    const xml = renderDomainXml(nodeDomainView(l, names, 1, { phase: c.phase, installerIso: '/iso/pve.iso', kernelBoot }));
    const root = parseXml(xml);

    expect(root.name).toBe('domain');
    expect(root.attrs['type']).toBe(domainType);
    expect(textOf(child(root, 'name'))).toBe(node.domain);
    expect(markFromXml(xml)).toEqual({ lab: 't1', role: 'node', node: node.name });
    expect(summarizeDomain(xml)).toEqual({ type: domainType, vcpus: node.vcpus, memoryMiB: node.memoryMiB, macs: [node.mac], networks: [names.network.name] });
    expect(path(root, 'os', 'type')?.attrs['machine']).toBe('q35');

    const os = child(root, 'os')!;
    if (c.firmware === 'uefi') {
      expect(textOf(child(os, 'loader'))).toBe('/usr/share/OVMF/OVMF_CODE_4M.fd');
      expect(textOf(child(os, 'nvram'))).toBe(node.nvram);
    } else expect(child(os, 'loader')).toBeUndefined();
    expect(textOf(child(os, 'kernel'))).toBe(c.kernel ? '/k/vmlinuz' : '');
    expect(textOf(child(os, 'cmdline'))).toBe(c.kernel ? 'console=ttyS0 lab_ip=dhcp' : '');

    const cpu = child(root, 'cpu')!;
    if (typeof c.cpu === 'string') expect(cpu.attrs['mode']).toBe(c.cpu);
    else expect([cpu.attrs['mode'], textOf(child(cpu, 'model'))]).toEqual(['custom', 'qemu64']);

    const vda = byTarget(root, 'vda');
    if (c.layout === 'lvm') expect([vda.attrs['type'], child(vda, 'source')?.attrs['dev']]).toEqual(['block', `/dev/${names.lvm.vg}/${node.rootLv}`]);
    if (c.layout === 'qcow2') expect([vda.attrs['type'], child(vda, 'source')?.attrs['file'], child(vda, 'driver')?.attrs['type']]).toEqual(['file', node.rootImage, 'qcow2']);
    if (c.layout === 'iscsi') {
      const src = child(vda, 'source')!;
      expect([vda.attrs['type'], src.attrs['protocol'], src.attrs['name']]).toEqual(['network', 'iscsi', `${names.iscsi.iqn}:root-${node.name}/1`]);
      expect(child(src, 'host')?.attrs).toEqual({ name: names.iscsi.portal, port: '3260' });
      expect(path(src, 'initiator', 'iqn')?.attrs['name']).toBe(node.initiatorIqn);
    }
    expect(child(byTarget(root, 'vdb'), 'source')?.attrs['file']).toBe(node.zfsImage);

    const [sda, sdb] = [byTarget(root, 'sda'), byTarget(root, 'sdb')];
    expect([sda.attrs['device'], sdb.attrs['device']]).toEqual(['cdrom', 'cdrom']);
    if (c.phase === 'install') {
      expect([bootOrder(sda), bootOrder(vda), bootOrder(sdb)]).toEqual(['1', '2', undefined]);
      expect([child(sda, 'source')?.attrs['file'], child(sdb, 'source')?.attrs['file']]).toEqual(['/iso/pve.iso', node.answerIso]);
      expect(textOf(child(root, 'on_reboot'))).toBe('destroy');
    } else {
      expect([bootOrder(sda), bootOrder(vda), bootOrder(sdb)]).toEqual([undefined, '1', undefined]);
      expect([child(sda, 'source'), child(sdb, 'source')]).toEqual([undefined, undefined]);
      expect(textOf(child(root, 'on_reboot'))).toBe('restart');
    }
    expect(textOf(child(root, 'on_poweroff'))).toBe('destroy');

    const devices = path(root, 'devices')!;
    const nic = child(devices, 'interface')!;
    expect([child(nic, 'mac')?.attrs['address'], child(nic, 'source')?.attrs['network'], child(nic, 'model')?.attrs['type'], child(nic, 'link')]).toEqual([
      node.mac, names.network.name, 'virtio', undefined,
    ]);
    expect(path(devices, 'serial', 'log')?.attrs['file']).toBe(node.serialLog);
    const gfx = elements(devices, 'graphics');
    expect(gfx.map((g) => g.attrs['type'])).toEqual(c.graphics === 'none' ? [] : [c.graphics]);
    for (const g of gfx) expect(g.attrs['listen']).toBe('127.0.0.1');
    expect(elements(devices, 'watchdog').length).toBe(c.watchdog ? 1 : 0);
    expect(elements(devices, 'channel').length).toBe(c.extra ? 1 : 0);
  });
});

describe('domain template: escaping and extra device XML', () => {
  it('escapes values so odd paths survive intact', () => {
    const dir = `/srv/a&b <c> "d" 'e'`;
    const l = lab({}, { layout: 'qcow2', dir });
    const names = labNames(l);
    const xml = renderDomainXml(nodeDomainView(l, names, 0, { phase: 'install', installerIso: `${dir}/pve.iso` }));
    const root = parseXml(xml);
    expect(child(byTarget(root, 'vda'), 'source')?.attrs['file']).toBe(`${dir}/pvelab-${l.name}/pve1-root.qcow2`);
    expect(child(byTarget(root, 'sda'), 'source')?.attrs['file']).toBe(`${dir}/pve.iso`);
  });

  it.each([
    ['not xml', 'plain text'],
    ['a breakout', '</devices><devices><emulator>/bin/sh</emulator>'],
    ['an unclosed element', '<rng model="virtio">'],
    ['loose text', '<rng/> and text'],
    ['an XML declaration', '<?xml version="1.0"?><rng/>'],
  ])('refuses %s as extraDeviceXml', (_what, xml) => {
    expect(() => validateDeviceXml(xml)).toThrow(ConfigError);
  });

  it('refuses CHAP with the iscsi root layout, naming the field', () => {
    const l = lab({}, { layout: 'iscsi', chap: true });
    expect(() => nodeDomainView(l, labNames(l), 0, { phase: 'install' })).toThrow(/storage\.chap/);
  });
});

describe('network template', () => {
  it('splits DHCP ranges around addresses kept free', () => {
    expect(dhcpRanges('10.0.0.200', '10.0.0.210', ['10.0.0.200', '10.0.0.205', '10.0.0.205', '10.0.0.1'])).toEqual([
      { start: '10.0.0.201', end: '10.0.0.204' },
      { start: '10.0.0.206', end: '10.0.0.210' },
    ]);
    expect(dhcpRanges('10.0.0.200', '10.0.0.201', ['10.0.0.200', '10.0.0.201'])).toEqual([]);
  });

  it('reserves every node (MAC → IP → name), keeps the guest address free, and carries the mark', () => {
    // Guest and one node placed inside the default dynamic range on purpose.
    const l = lab({}, {}, { guest: { ip: '10.99.0.210' }, nodes: [{ name: 'pve1' }, { name: 'pve2', ip: '10.99.0.220' }, { name: 'pve3' }] });
    const names = labNames(l);
    const xml = renderNetworkXml(labNetworkView(l, names));
    const root = parseXml(xml);
    expect(textOf(child(root, 'name'))).toBe(names.network.name);
    expect(markFromXml(xml)).toEqual({ lab: 't1', role: 'network' });
    expect(child(root, 'forward')?.attrs['mode']).toBe('nat');
    expect(child(root, 'bridge')?.attrs['name']).toBe(names.network.bridge);
    const ip = child(root, 'ip')!;
    expect(ip.attrs).toEqual({ address: names.network.gateway, netmask: '255.255.255.0' });
    const dhcp = child(ip, 'dhcp')!;
    expect(elements(dhcp, 'host').map((h) => h.attrs)).toEqual(names.nodes.map((n) => ({ mac: n.mac, name: n.name, ip: n.ip })));
    const ranges = elements(dhcp, 'range').map((r) => [parseIp(r.attrs['start']!)!, parseIp(r.attrs['end']!)!] as const);
    expect(ranges.length).toBeGreaterThan(1);
    for (const kept of [names.guest.ip, names.network.gateway, ...names.nodes.map((n) => n.ip)]) {
      const k = parseIp(kept)!;
      expect(ranges.some(([s, e]) => k >= s && k <= e), `${kept} must stay out of the dynamic ranges`).toBe(false);
    }
  });

  it('renders the open and isolated variants used by tests', () => {
    const l = lab({});
    const names = labNames(l);
    expect(child(parseXml(renderNetworkXml(labNetworkView(l, names, 'open'))), 'forward')?.attrs['mode']).toBe('open');
    expect(child(parseXml(renderNetworkXml(labNetworkView(l, names, 'none'))), 'forward')).toBeUndefined();
  });
});
