// Reading a node domain's XML for the install step. Pure: XML text in, facts out.
//  - bootPhase(): which of the two definitions (lab-views.ts NodePhase) a domain carries. The one fact
//    that matters for "never reinstall by accident" is whether a medium sits in the installer drive:
//    with it the domain boots the installer; without it, it boots its disk.
//  - consoleOf(): where a teacher can watch a running domain (VNC/SPICE port from the LIVE XML, where
//    libvirt fills in the autoport; the serial console is always there).
import { DRIVES, type NodePhase } from '../libvirt/lab-views.js';
import { child, elements, parseXml, path, textOf } from '../libvirt/xml.js';

export interface PhaseFacts {
  phase: NodePhase;
  /** Media in the installer / answer drives (null: empty drive or no such drive). */
  installerMedia: string | null;
  answerMedia: string | null;
  onReboot: string;
  /** Target of the device with boot order 1 (e.g. "vda", "sda"), when any. */
  firstBoot: string | undefined;
}

export function phaseFacts(domainXml: string): PhaseFacts {
  const root = parseXml(domainXml);
  const disks = elements(child(root, 'devices') ?? root, 'disk');
  const media = (target: string): string | null => {
    const d = disks.find((x) => child(x, 'target')?.attrs['dev'] === target);
    return d ? (child(d, 'source')?.attrs['file'] ?? null) : null;
  };
  const first = disks.find((d) => child(d, 'boot')?.attrs['order'] === '1');
  const installerMedia = media(DRIVES.installer);
  return {
    phase: installerMedia !== null ? 'install' : 'run',
    installerMedia,
    answerMedia: media(DRIVES.answer),
    onReboot: textOf(child(root, 'on_reboot')) || 'restart',
    firstBoot: first ? child(first, 'target')?.attrs['dev'] : undefined,
  };
}

export const bootPhase = (domainXml: string): NodePhase => phaseFacts(domainXml).phase;

export interface ConsoleInfo {
  /** "vnc" | "spice" when the domain has a graphical console. */
  graphics?: { type: string; listen: string; port: number } | undefined;
}

/** The graphical console of a running domain (live XML); undefined port while libvirt has not assigned it. */
export function consoleOf(liveXml: string): ConsoleInfo {
  const root = parseXml(liveXml);
  const g = elements(path(root, 'devices') ?? root, 'graphics')[0];
  if (!g) return {};
  const port = Number(g.attrs['port'] ?? '-1');
  const listen = g.attrs['listen'] ?? child(g, 'listen')?.attrs['address'] ?? '127.0.0.1';
  return port > 0 ? { graphics: { type: g.attrs['type'] ?? 'vnc', listen, port } } : {};
}

/** "VNC 127.0.0.1:5901 (display :1)" — how a viewer addresses it. */
export function describeGraphics(g: NonNullable<ConsoleInfo['graphics']>): string {
  if (g.type === 'vnc') return `VNC ${g.listen}:${g.port} (display :${g.port - 5900})`;
  return `${g.type.toUpperCase()} ${g.listen}:${g.port}`;
}
