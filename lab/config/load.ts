// Reading the lab file: YAML → zod schema (defaults) → cross-field rules → resolved Lab.
// Any problem becomes one ConfigError (exit 2) naming the field and the fix; nothing is touched.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../core/errors.js';
import { labSchema, type LabSpec } from './schema.js';
import { validateLab } from './validate.js';
import { formatCidr, overlaps, parseCidr } from './ipv4.js';
import { bridgeName, shortHash, type Lab } from './names.js';

/** Formats a zod path as the user wrote it: nodes[1].memoryMiB */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(top level)';
}

function issuesFromZod(err: z.ZodError): ConfigIssue[] {
  return err.issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      const where = formatPath(i.path);
      const keys = i.keys.map((k) => `"${k}"`).join(', ');
      return { path: i.path.length ? `${where}.${i.keys[0]}` : i.keys[0] ?? where, message: `unknown key ${keys}; remove it or check its spelling (see: pvelab config schema)` };
    }
    if (i.code === 'invalid_type') {
      const got = i.input === undefined ? 'nothing' : Array.isArray(i.input) ? 'a list' : typeof i.input;
      return { path: formatPath(i.path), message: `expected ${i.expected}, got ${got}` };
    }
    return { path: formatPath(i.path), message: i.message };
  });
}

/** Parses and validates lab-file text. `file` is only used in messages. */
export function parseLabText(text: string, file?: string): LabSpec {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0];
    throw new ConfigError([{ path: line ? `line ${line.line}, column ${line.col}` : '(yaml)', message: `${e.message.split('\n')[0]}; fix the YAML syntax` }], { file });
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || Array.isArray(data))
    throw new ConfigError([{ path: '(top level)', message: 'the lab file must be a YAML mapping (key: value lines)' }], { file });
  return parseLabObject(data, file);
}

export function parseLabObject(data: unknown, file?: string): LabSpec {
  const parsed = labSchema.safeParse(data);
  if (!parsed.success) throw new ConfigError(issuesFromZod(parsed.error), { file });
  const issues = validateLab(parsed.data);
  if (issues.length > 0) throw new ConfigError(issues, { file });
  return parsed.data;
}

export async function readLabFile(file: string): Promise<LabSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError([{ path: '(file)', message: `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? cause}` }], {
      file,
      hint: 'pass an existing file with --config FILE, or omit it to use the built-in default lab',
    });
  }
  return parseLabText(text, file);
}

/** The built-in default lab (no lab file). */
export function defaultLab(): LabSpec {
  return parseLabObject({});
}

export interface HostRoute {
  dst: string; // "default" or CIDR / address
  dev?: string | undefined;
}

/**
 * Resolves network.cidr "auto": the lab's earlier choice when it has one, otherwise the first /24 in
 * 10.77-10.126.x.0 (starting from a hash of the lab name) that overlaps no host route — routes on the
 * lab's own bridge do not count. An explicit cidr that overlaps a foreign route is an error.
 */
export function resolveLab(spec: LabSpec, routes: readonly HostRoute[], previousCidr?: string): Lab {
  const own = bridgeName(spec.name);
  const foreign = routes
    .filter((r) => r.dev !== own && r.dst !== 'default')
    .map((r) => ({ r, c: parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`) }))
    .filter((x): x is { r: HostRoute; c: NonNullable<ReturnType<typeof parseCidr>> } => x.c !== null);
  const clash = (cidr: string) => {
    const c = parseCidr(cidr)!;
    return foreign.find((f) => overlaps(c, f.c));
  };
  if (spec.network.cidr !== 'auto') {
    const hit = clash(spec.network.cidr);
    if (hit)
      throw new ConfigError([{ path: 'network.cidr', message: `${spec.network.cidr} overlaps the host route ${hit.r.dst}${hit.r.dev ? ` on ${hit.r.dev}` : ''}; choose another network or use "auto"` }]);
    return { ...spec, network: { ...spec.network, cidr: spec.network.cidr } };
  }
  if (previousCidr) return { ...spec, network: { ...spec.network, cidr: previousCidr } };
  const start = parseInt(shortHash(spec.name, 4), 16) % 256;
  for (let i = 0; i < 50 * 256; i++) {
    const second = 77 + Math.floor(i / 256);
    const third = (start + i) % 256;
    const cidr = formatCidr({ base: ((10 << 24) >>> 0) + (second << 16) + (third << 8), prefix: 24 });
    if (!clash(cidr) && !(spec.network.storageCidr && overlaps(parseCidr(cidr)!, parseCidr(spec.network.storageCidr)!)))
      return { ...spec, network: { ...spec.network, cidr } };
  }
  throw new ConfigError([{ path: 'network.cidr', message: 'no free /24 found in 10.77.0.0-10.126.255.0; set network.cidr explicitly' }]);
}

/** JSON Schema of the lab file, for editors. */
export function labJsonSchema(): unknown {
  return z.toJSONSchema(labSchema, { io: 'input', unrepresentable: 'any' });
}
