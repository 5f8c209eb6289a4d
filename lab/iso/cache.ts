// Where ISOs live: <repo>/iso/ (git-ignored), found from this module's location — dist/lab/iso/ when
// built, lab/iso/ under vitest — by walking up to the directory holding package.json.
// PVELAB_ISO_DIR overrides it (tests, or a shared cache on another disk).
// Layout: proxmox-ve_<rel>.iso (verified download or copy), its .sha256 sidecar (sha256sum format,
// written only after verification), proxmox-ve_<rel>.iso.part (resumable download),
// proxmox-ve_<rel>-auto-from-partition.iso (prepared copy, prepare.ts).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the pvelab directory (no package.json above ${from})`);
    dir = up;
  }
}

export function isoCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['PVELAB_ISO_DIR'] ?? join(repoRoot(), 'iso');
}
