// Device edits for virDomainUpdateDeviceFlags, on live XML in the shape libvirt 9 / QEMU returns it.
import { describe, expect, it } from 'vitest';
import { LabError } from '../../lab/core/errors.js';
import { cdromMedia, cdromWithMedia, interfaceWithLink, linkState, summarizeDomain } from '../../lab/libvirt/devices.js';
import { child, parseXml } from '../../lab/libvirt/xml.js';

const LIVE = `<domain type='qemu' id='3'>
  <name>pvelab-t1-pve1</name>
  <memory unit='KiB'>4194304</memory>
  <vcpu placement='static'>2</vcpu>
  <devices>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/iso/pve.iso' index='2'/>
      <backingStore/>
      <target dev='sda' bus='sata'/>
      <readonly/>
      <boot order='1'/>
      <alias name='sata0-0-0'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <target dev='sdb' bus='sata'/>
      <readonly/>
      <alias name='sata0-0-1'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/img/root.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:62:8B:10'/>
      <source network='pvelab-t1' portid='0b1c' bridge='pvlbr-t1'/>
      <target dev='vnet0'/>
      <model type='virtio'/>
      <alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <interface type='network'>
      <mac address='52:54:00:62:8b:99'/>
      <source network='other'/>
      <link state='down'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>`;

describe('link state (the isolate fault)', () => {
  it('reads the link state per MAC, case-insensitively', () => {
    expect(linkState(LIVE, '52:54:00:62:8b:10')).toBe('up');
    expect(linkState(LIVE, '52:54:00:62:8B:99')).toBe('down');
    expect(linkState(LIVE, '52:54:00:00:00:00')).toBeUndefined();
  });

  it('returns only that interface, unchanged except for <link state>', () => {
    const dev = parseXml(interfaceWithLink(LIVE, '52:54:00:62:8b:10', 'down'));
    expect(dev.name).toBe('interface');
    expect(child(dev, 'mac')?.attrs['address']).toBe('52:54:00:62:8B:10');
    expect(child(dev, 'link')?.attrs).toEqual({ state: 'down' });
    expect(child(dev, 'alias')?.attrs['name']).toBe('net0');
    expect(child(dev, 'target')?.attrs['dev']).toBe('vnet0');
  });

  it('replaces an existing <link> instead of adding a second one', () => {
    const dev = parseXml(interfaceWithLink(LIVE, '52:54:00:62:8b:99', 'up'));
    expect(dev.children.filter((c) => typeof c !== 'string' && c.name === 'link')).toHaveLength(1);
    expect(child(dev, 'link')?.attrs['state']).toBe('up');
  });

  it('names the domain and MAC when no interface matches', () => {
    expect(() => interfaceWithLink(LIVE, '52:54:00:00:00:01', 'down', 'domain x')).toThrow(LabError);
    expect(() => interfaceWithLink(LIVE, '52:54:00:00:00:01', 'down', 'domain x')).toThrow(/domain x has no network interface with MAC 52:54:00:00:00:01/);
  });
});

describe('CD-ROM media', () => {
  it('reads what is in each drive', () => {
    expect(cdromMedia(LIVE, 'sda')).toBe('/iso/pve.iso');
    expect(cdromMedia(LIVE, 'sdb')).toBeNull();
    expect(cdromMedia(LIVE, 'vda')).toBeUndefined(); // a disk, not a CD-ROM
    expect(cdromMedia(LIVE, 'sdz')).toBeUndefined();
  });

  it('ejects: the same drive without <source>', () => {
    const dev = parseXml(cdromWithMedia(LIVE, 'sda', null));
    expect(child(dev, 'source')).toBeUndefined();
    expect(child(dev, 'target')?.attrs).toEqual({ dev: 'sda', bus: 'sata' });
    expect(child(dev, 'alias')?.attrs['name']).toBe('sata0-0-0');
  });

  it('inserts: a <source file> in the empty drive', () => {
    const dev = parseXml(cdromWithMedia(LIVE, 'sdb', '/answer/pve1 & co.iso'));
    expect(child(dev, 'source')?.attrs).toEqual({ file: '/answer/pve1 & co.iso' });
    expect(dev.attrs).toEqual({ type: 'file', device: 'cdrom' });
  });

  it('refuses a target that is not a CD-ROM', () => {
    expect(() => cdromWithMedia(LIVE, 'vda', '/x.iso')).toThrow(/has no CD-ROM drive vda/);
  });
});

describe('summarizeDomain', () => {
  it('reads type, vCPUs, memory in MiB (any unit), MACs and networks', () => {
    expect(summarizeDomain(LIVE)).toEqual({
      type: 'qemu',
      vcpus: 2,
      memoryMiB: 4096,
      macs: ['52:54:00:62:8b:10', '52:54:00:62:8b:99'],
      networks: ['pvelab-t1', 'other'],
    });
    expect(summarizeDomain(`<domain type='kvm'><memory unit='GiB'>2</memory><vcpu>1</vcpu><devices/></domain>`).memoryMiB).toBe(2048);
  });
});
