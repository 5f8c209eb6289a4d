// Reading node domain XML for the install step: the boot phase of both definitions pvelab renders,
// the graphical console of a live domain, and the UUID a redefinition must carry.
import { describe, expect, it } from 'vitest';
import { consoleOf, describeGraphics, phaseFacts } from '../../lab/install/phase.js';
import { withUuid } from '../../lab/install/node.js';
import { nodeDomainXml } from '../../lab/steps/domains.js';
import { rig } from './install-fakes.js';

describe('boot phase from the domain definition', () => {
  const r = rig();
  const ctx = r.ctx();
  const n = ctx.names.nodes[1]!;

  it('install: installer CD first with the prepared ISO, answer CD, on_reboot destroy', () => {
    expect(phaseFacts(nodeDomainXml(ctx, 1, { phase: 'install', installerIso: '/iso/p.iso' }))).toEqual({
      phase: 'install', installerMedia: '/iso/p.iso', answerMedia: n.answerIso, onReboot: 'destroy', firstBoot: 'sda',
    });
  });

  it('run: disk first, both CD drives empty, on_reboot restart', () => {
    expect(phaseFacts(nodeDomainXml(ctx, 1, { phase: 'run' }))).toEqual({ phase: 'run', installerMedia: null, answerMedia: null, onReboot: 'restart', firstBoot: 'vda' });
  });

  it('libvirt-style XML (single quotes, live attributes) reads the same', () => {
    const xml = `<domain type='qemu' id='4'><name>x</name><on_reboot>restart</on_reboot><devices>
      <disk type='file' device='disk'><source file='/i/r.qcow2' index='4'/><target dev='vda' bus='virtio'/><boot order='1'/></disk>
      <disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>
      <disk type='file' device='cdrom'><source file='/x/a.iso'/><target dev='sdb' bus='sata'/></disk></devices></domain>`;
    // only the installer drive decides: an answer CD left in the second drive does not boot anything
    expect(phaseFacts(xml)).toMatchObject({ phase: 'run', installerMedia: null, answerMedia: '/x/a.iso', firstBoot: 'vda' });
  });
});

describe('graphical console of a running domain', () => {
  it('VNC port from the live XML, with its display number', () => {
    const c = consoleOf(`<domain><devices><graphics type='vnc' port='5903' autoport='yes' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics></devices></domain>`);
    expect(c).toEqual({ graphics: { type: 'vnc', listen: '127.0.0.1', port: 5903 } });
    expect(describeGraphics(c.graphics!)).toBe('VNC 127.0.0.1:5903 (display :3)');
  });
  it('SPICE, and nothing while libvirt has not assigned a port (autoport, inactive XML)', () => {
    expect(describeGraphics(consoleOf(`<domain><devices><graphics type='spice' port='5930' listen='127.0.0.1'/></devices></domain>`).graphics!)).toBe('SPICE 127.0.0.1:5930');
    expect(consoleOf(`<domain><devices><graphics type='vnc' port='-1' autoport='yes'/></devices></domain>`)).toEqual({});
    expect(consoleOf('<domain><devices/></domain>')).toEqual({});
  });
});

describe('redefinition keeps the domain UUID', () => {
  it('inserts <uuid> after <name> once', () => {
    const xml = nodeDomainXml(rig().ctx(), 0, { phase: 'run' });
    const out = withUuid(xml, '11111111-2222-4333-8444-555555555555');
    expect(out).toMatch(/<name>pvelab-t1-pve1<\/name>\n {2}<uuid>11111111-2222-4333-8444-555555555555<\/uuid>/);
    expect(withUuid(out, 'other')).toBe(out);
  });
});
