import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lab/core/errors.js';
import { defaultLab, labJsonSchema, parseLabText, resolveLab } from '../../lab/config/load.js';

const dir = join(import.meta.dirname, '../fixtures/lab');
const invalid = readdirSync(join(dir, 'invalid')).filter((f) => f.endsWith('.yaml'));

function expectedPath(text: string): string {
  const m = /^# expect: (.+)$/m.exec(text);
  if (!m) throw new Error('fixture without "# expect:" line');
  return m[1]!.trim();
}

describe('lab file validation', () => {
  it('has at least 20 malformed fixtures', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(20);
  });

  it.each(invalid)('rejects %s naming the field', (file) => {
    const text = readFileSync(join(dir, 'invalid', file), 'utf8');
    let err: unknown;
    try {
      const spec = parseLabText(text, file);
      resolveLab(spec, []);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const ce = err as ConfigError;
    expect(ce.exitCode).toBe(2);
    const want = expectedPath(text);
    expect(ce.issues.map((i) => i.path).join(' | ')).toContain(want);
    expect(ce.message).toContain(want);
  });

  it('accepts the valid fixtures', () => {
    for (const f of readdirSync(join(dir, 'valid'))) {
      const spec = parseLabText(readFileSync(join(dir, 'valid', f), 'utf8'), f);
      expect(spec.nodes.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('fills the built-in default lab', () => {
    const d = defaultLab();
    expect(d.nodes.map((n) => n.name)).toEqual(['pve1', 'pve2', 'pve3']);
    expect(d.nodeDefaults).toEqual({ vcpus: 2, memoryMiB: 4096, rootGiB: 32, zfsGiB: 16 });
    expect(d.storage.lunGiB).toBe(128);
    expect(d.guest).toMatchObject({ vmid: 100, hostname: 'web' });
    expect(d.pve.release).toBe('latest-9');
    expect(d.network.cidr).toBe('auto');
  });

  it('reports unknown keys with the way out', () => {
    expect(() => parseLabText('storage:\n  lunSize: 3\n')).toThrow(/storage\.lunSize: unknown key "lunSize"; remove it/);
  });

  it('lists every problem when there are several', () => {
    try {
      parseLabText('nodeDefaults:\n  vcpus: 0\n  memoryMiB: 100\n');
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).issues.map((i) => i.path).sort()).toEqual(['nodeDefaults.memoryMiB', 'nodeDefaults.vcpus']);
    }
  });
});

describe('network resolution', () => {
  it('picks a /24 that clashes with no host route, ignoring the lab bridge itself', () => {
    const spec = defaultLab();
    const first = resolveLab(spec, []);
    expect(first.network.cidr).toMatch(/^10\.77\.\d+\.0\/24$/);
    const clashing = resolveLab(spec, [{ dst: first.network.cidr, dev: 'eth0' }]);
    expect(clashing.network.cidr).not.toBe(first.network.cidr);
    const ours = resolveLab(spec, [{ dst: first.network.cidr, dev: 'pvlbr-lab' }]);
    expect(ours.network.cidr).toBe(first.network.cidr);
  });

  it('keeps the cidr the lab already uses', () => {
    expect(resolveLab(defaultLab(), [{ dst: '10.0.0.0/8', dev: 'x' }], '10.77.3.0/24').network.cidr).toBe('10.77.3.0/24');
  });

  it('skips a whole covering route', () => {
    const r = resolveLab(defaultLab(), [{ dst: '10.77.0.0/16', dev: 'vpn0' }]);
    expect(r.network.cidr.startsWith('10.77.')).toBe(false);
  });

  it('refuses an explicit cidr that overlaps a host route', () => {
    const spec = parseLabText('network:\n  cidr: 192.168.122.0/24\n');
    expect(() => resolveLab(spec, [{ dst: '192.168.122.0/24', dev: 'virbr0' }])).toThrow(/network\.cidr: 192\.168\.122\.0\/24 overlaps the host route 192\.168\.122\.0\/24 on virbr0/);
  });
});

describe('JSON Schema export', () => {
  it('describes the top-level sections and forbids unknown keys', () => {
    const s = labJsonSchema() as { properties: Record<string, unknown>; additionalProperties: unknown };
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['name', 'pve', 'network', 'nodes', 'storage', 'guest']));
    expect(s.additionalProperties).toBe(false);
  });
});
