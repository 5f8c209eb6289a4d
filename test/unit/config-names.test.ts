import { describe, expect, it } from 'vitest';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { bridgeName, labNames } from '../../lab/config/names.js';

const lab = (o: object) => resolveLab(parseLabObject(o), []);

describe('names', () => {
  const a = labNames(lab({ name: 'class-a', network: { cidr: '10.88.0.0/24' } }), '/var/lib/pvelab');
  const b = labNames(lab({ name: 'class-b', network: { cidr: '10.89.0.0/24' } }), '/var/lib/pvelab');

  it('derives the addressing plan from the lab network', () => {
    expect(a.network.gateway).toBe('10.88.0.1');
    expect(a.nodes.map((n) => n.ip)).toEqual(['10.88.0.11', '10.88.0.12', '10.88.0.13']);
    expect(a.guest.ip).toBe('10.88.0.100');
    expect(a.iscsi.portal).toBe('10.88.0.1');
    expect(a.network.dhcpStart).toBe('10.88.0.200');
  });

  it('never shares a name, MAC, IQN, VG, tag or path between two labs', () => {
    const flat = (n: typeof a) => [
      n.network.name, n.network.bridge, n.iscsi.iqn, n.iscsi.tgtConfFile, n.iscsi.lunImage, n.lvm.vg, n.lvm.tag, n.stateDir, n.guest.mac,
      ...n.nodes.flatMap((x) => [x.domain, x.mac, x.rootImage, x.zfsImage, x.serialLog, x.answerIso, x.initiatorIqn]),
    ];
    const fa = flat(a);
    const fb = new Set(flat(b));
    expect(fa.filter((x) => fb.has(x))).toEqual([]);
    expect(new Set(fa).size).toBe(fa.length);
  });

  it('keeps every bridge name within the 15-character kernel limit and distinct for long names', () => {
    for (const name of ['a', 'lab', 'abcdefghi', 'abcdefghij', 'abcdefghijkl']) expect(bridgeName(name).length).toBeLessThanOrEqual(15);
    expect(bridgeName('abcdefghijkl')).not.toBe(bridgeName('abcdefghijkm'));
  });

  it('gives locally administered unicast MACs, distinct per node', () => {
    for (const n of a.nodes) expect(n.mac).toMatch(/^52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:1[0-9a-f]$/);
    expect(a.guest.mac).toMatch(/^BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:64$/);
  });

  it('is pure: the same lab gives the same names', () => {
    expect(labNames(lab({ name: 'class-a', network: { cidr: '10.88.0.0/24' } }), '/var/lib/pvelab')).toEqual(a);
  });

  it('uses explicit addresses from the lab file', () => {
    const n = labNames(lab({ network: { cidr: '10.90.0.0/24' }, nodes: [{ name: 'x1', ip: '10.90.0.51' }, { name: 'x2' }, { name: 'x3' }], guest: { ip: '10.90.0.77' } }));
    expect(n.nodes[0]!.ip).toBe('10.90.0.51');
    expect(n.nodes[1]!.ip).toBe('10.90.0.12');
    expect(n.guest.ip).toBe('10.90.0.77');
  });
});

describe('per-node extra device XML', () => {
  it('replaces {node} and {domain} for each node', async () => {
    const { nodeExtraDeviceXml } = await import('../../lab/libvirt/lab-views.js');
    expect(nodeExtraDeviceXml("<channel type='unix'><source mode='bind' path='/x/{node}.sock'/><target type='virtio' name='{domain}'/></channel>", 'pve2', 'pvelab-a-pve2'))
      .toBe("<channel type='unix'><source mode='bind' path='/x/pve2.sock'/><target type='virtio' name='pvelab-a-pve2'/></channel>");
    expect(nodeExtraDeviceXml(undefined, 'a', 'b')).toBeUndefined();
  });
});
