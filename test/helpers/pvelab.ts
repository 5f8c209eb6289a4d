// Runs the real pvelab CLI (the TypeScript sources through tsx, as `./pvelab` would after a build)
// INSIDE a lab namespace (labns.ts), so pvelab's qemu:///system is the namespace's libvirtd, its tgtadm
// talks to the namespace's tgtd and it reaches the lab network's guests directly.
// Everything pvelab writes lands in the caller's scratch dir:
//   - PVELAB_HOME=<home>/home (lab state, SSH key, known_hosts, answer media, serial logs),
//   - PVELAB_ISO_DIR=<home>/iso (ISO cache, prepared ISO),
//   - /etc/tgt/conf.d is bind-mounted from <home>/tgt-conf.d in a private mount namespace made for
//     this one run (unshare -m), because the lab namespace shares /etc with the machine and the
//     storage.target step writes its tgt configuration file there.
// The lab file's storage.dir must point into the scratch dir too (the caller writes the lab file).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { LabNs } from './labns.js';
import type { RunResult } from './run.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const MAIN = join(REPO, 'lab', 'main.ts');

export interface PvelabHome {
  /** The scratch dir everything lives under. */
  dir: string;
  /** PVELAB_HOME: the lab state is <home>/<lab name>. */
  home: string;
  isoDir: string;
  tgtConfDir: string;
  /** For the lab file's storage.dir (pvelab requires it to exist). */
  imagesDir: string;
}

/** Creates the scratch layout under `dir` (idempotent). */
export function pvelabHome(dir: string): PvelabHome {
  const h = { dir, home: join(dir, 'home'), isoDir: join(dir, 'iso'), tgtConfDir: join(dir, 'tgt-conf.d'), imagesDir: join(dir, 'images') };
  for (const d of [h.home, h.isoDir, h.tgtConfDir, h.imagesDir]) mkdirSync(d, { recursive: true });
  return h;
}

/** Writes a lab file (YAML) into the scratch dir and returns its path. */
export function writeLabFile(h: PvelabHome, lab: Record<string, unknown>): string {
  const path = join(h.dir, `${String(lab['name'] ?? 'lab')}.lab.yaml`);
  writeFileSync(path, stringify(lab));
  return path;
}

/** The install step's id, e.g. for `up --until` (stop once the nodes run from their disks). */
export const INSTALL_STEP = 'nodes.install';

export interface RunPvelabOpts {
  /** Passed as `-c FILE` before the command. */
  labFile?: string;
  env?: Record<string, string>;
  /** Kills the run (nsenter) after this long; default 10 min. */
  timeoutMs?: number;
}

/**
 * `pvelab <args>` inside the namespace; resolves with exit code, stdout and stderr (never rejects on
 * a non-zero exit). stderr is not a TTY, so pvelab logs plain progress lines.
 */
export function runPvelab(ns: LabNs, h: PvelabHome, args: string[], opts: RunPvelabOpts = {}): Promise<RunResult> {
  const cli = ['node', TSX, MAIN, ...(opts.labFile ? ['-c', opts.labFile] : []), ...args];
  // $1 = the conf dir to bind; the rest is the command. The private mount ns dies with the command.
  const script = 'mount --bind "$1" /etc/tgt/conf.d && shift && exec "$@"';
  return ns.exec(['unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', h.tgtConfDir, ...cli], {
    allowFail: true,
    cwd: h.dir,
    timeoutMs: opts.timeoutMs ?? 600_000,
    env: {
      ...process.env,
      PVELAB_HOME: h.home,
      PVELAB_ISO_DIR: h.isoDir,
      NO_COLOR: '1',
      ...opts.env,
    },
  });
}
