// Locates fixtures for the ISO/answer tests: ours in test/fixtures/iso, the shared Proxmox ones in
// ../shared/fixtures/pve beside the repository (CI layout) or /work/shared (developer machines).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export const isoFixture = (name: string): string => readFileSync(join(REPO, 'test/fixtures/iso', name), 'utf8');

export function sharedPveDir(): string {
  for (const d of [join(REPO, '../shared/fixtures/pve'), '/work/shared/fixtures/pve']) if (existsSync(d)) return d;
  throw new Error('shared/fixtures/pve not found beside the repository (../shared) or in /work/shared');
}

export const sharedFixture = (name: string): string => readFileSync(join(sharedPveDir(), name), 'utf8');

/** The upstream parser test inputs shared/fixtures/pve/answer-*.toml, by short name. */
export function upstreamAnswers(): Map<string, string> {
  const dir = sharedPveDir();
  return new Map(readdirSync(dir).filter((f) => /^answer-.*\.toml$/.test(f)).sort().map((f) => [f.replace(/^answer-|\.toml$/g, ''), readFileSync(join(dir, f), 'utf8')]));
}
