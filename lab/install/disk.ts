// Has anything been written to the head of a node's root disk? The install step asks this of a node
// whose domain is still defined for installation but shut off, to tell "never installed" (blank disk:
// start the installer) from "the installer ran while pvelab was not watching" (do not wipe it again).
// Every installer writes the disk's first sector (partition table / boot record) and every fresh root
// disk pvelab makes is blank there: qcow2 and sparse LUN files are created empty, and lvcreate zeroes
// an LV's first 4 KiB. Only read while the domain is shut off (no writer).
import type { Lab, LabNames } from '../config/names.js';
import { LabError } from '../core/errors.js';
import type { Runner } from '../exec/runner.js';
import { nodeLunImage, nodeRootDisk } from '../storage/spec.js';

/** Bytes at the start of the disk that must all be zero for it to count as blank. */
export const HEAD_BYTES = 4096;

export type DiskSource = { kind: 'qcow2'; path: string } | { kind: 'raw'; path: string };

/** Where the host reads node `index`'s root disk: the qcow2 image, the LV device, or the LUN's backing file. */
export function rootDiskSource(lab: Lab, names: LabNames, index: number): DiskSource {
  const d = nodeRootDisk(lab, names, index);
  switch (d.kind) {
    case 'file':
      return d.format === 'qcow2' ? { kind: 'qcow2', path: d.path } : { kind: 'raw', path: d.path };
    case 'block':
      return { kind: 'raw', path: d.path };
    case 'iscsi':
      return { kind: 'raw', path: nodeLunImage(names, names.nodes[index]!.name) };
  }
}

/** The argv that answers the question (pure; unit-tested). */
export function headProbeArgv(src: DiskSource): string[] {
  return src.kind === 'qcow2'
    ? ['qemu-img', 'map', '--output=json', '--force-share', '-f', 'qcow2', src.path]
    : ['cmp', '-s', '-n', String(HEAD_BYTES), src.path, '/dev/zero'];
}

interface MapEntry {
  start: number;
  length: number;
  data: boolean;
}

/** From `qemu-img map --output=json`: is any data allocated within the first HEAD_BYTES? */
export function qcow2HeadWritten(mapJson: string): boolean {
  const entries = JSON.parse(mapJson) as MapEntry[];
  return entries.some((e) => e.data && e.start < HEAD_BYTES);
}

export async function rootDiskWritten(host: Runner, src: DiskSource): Promise<boolean> {
  const argv = headProbeArgv(src);
  if (src.kind === 'qcow2') return qcow2HeadWritten((await host.run(argv)).stdout);
  // cmp: 0 = identical to zeros (blank), 1 = differs (written); 2 = trouble (missing, unreadable).
  const r = await host.run(argv, { allowExit: [1, 2] });
  if (r.exitCode === 2)
    throw new LabError(`cannot read the root disk ${src.path}: ${r.stderr.trim() || 'cmp failed'}`, { hint: 'the storage steps create it; run `pvelab up` again' });
  return r.exitCode === 1;
}
