// First half of the answer-file check: every key against the per-release key table
// (answer-schema.ts) and its value type. Unknown keys, keys of a later release and keys in the
// wrong spelling for the release are errors (the installer denies unknown fields); snake_case
// spellings on 8.4+ are warnings (accepted, but `validate-answer` reports them as deprecated).
// Returns the issues plus a normalized copy with kebab-case keys for the semantic rules.
import { atLeast, type IsoRelease } from './release.js';
import { ANSWER_SCHEMA, type FieldSpec, snakeOf } from './answer-schema.js';
import { type TomlTable, type TomlValue, isTable } from './toml.js';

export interface AnswerIssue {
  /** Dotted path as written in the file, e.g. "global.root_password". */
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

const relText = (s: readonly [number, number]) => `${s[0]}.${s[1]}`;

function typeIssue(spec: FieldSpec, v: TomlValue, rel: IsoRelease): string | undefined {
  switch (spec.kind) {
    case 'string':
      if (typeof v !== 'string') return 'must be a string';
      if (spec.enum) {
        const ci = spec.enumCaseInsensitiveSince && atLeast(rel, ...spec.enumCaseInsensitiveSince);
        if (!spec.enum.includes(ci ? v.toLowerCase() : v)) return `"${v}" is not one of ${spec.enum.map((e) => `"${e}"`).join(', ')}`;
      }
      return undefined;
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
    case 'uint':
      return typeof v === 'bigint' && v >= 0n ? undefined : 'must be a non-negative integer';
    case 'float':
      return typeof v === 'number' || typeof v === 'bigint' ? undefined : 'must be a number';
    case 'strings':
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'must be a list of strings';
    case 'map':
      return isTable(v) && Object.values(v).every((x) => typeof x === 'string') ? undefined : 'must be a table of strings (KEY = "glob")';
    case 'table':
      return isTable(v) ? undefined : 'must be a table';
    case 'fqdn':
      if (typeof v === 'string') return undefined;
      if (isTable(v) && atLeast(rel, 8, 4)) return undefined;
      return atLeast(rel, 8, 4) ? 'must be a host name with domain, or a table { source = "from-dhcp" }' : 'must be a string (host name with domain)';
  }
}

/** Resolves a written key to its spec and canonical name, or explains why it is not allowed. */
function resolveKey(
  key: string,
  fields: Readonly<Record<string, FieldSpec>>,
  rel: IsoRelease,
): { name: string; spec: FieldSpec; warn?: string } | { error: string } {
  const modern = atLeast(rel, 8, 4);
  const direct = fields[key];
  if (direct) {
    if (direct.since && !atLeast(rel, ...direct.since)) return { error: `unknown key for Proxmox VE ${rel.id} (accepted from ${relText(direct.since)} on)` };
    if (direct.snake && !modern && key.includes('-')) return { error: `unknown key for Proxmox VE ${rel.id}: before 8.4 it is spelled "${snakeOf(key)}"` };
    return { name: key, spec: direct };
  }
  if (key.includes('_')) {
    const kebab = key.replace(/_/g, '-');
    const spec = fields[kebab];
    if (spec && (spec.snake || spec.aliasOnly)) {
      if (spec.since && !atLeast(rel, ...spec.since)) return { error: `unknown key for Proxmox VE ${rel.id} (accepted from ${relText(spec.since)} on)` };
      if (!modern && spec.snake) return { name: kebab, spec };
      if (modern) return { name: kebab, spec, warn: `deprecated snake_case key; Proxmox VE ${rel.id} prefers "${kebab}"` };
      return { error: `unknown key for Proxmox VE ${rel.id}: it is spelled "${kebab}"` };
    }
  }
  return { error: 'unknown key (the installer rejects unknown keys)' };
}

function walk(
  table: TomlTable,
  fields: Readonly<Record<string, FieldSpec>>,
  path: string,
  rel: IsoRelease,
  issues: AnswerIssue[],
): TomlTable {
  const out: TomlTable = {};
  for (const [key, v] of Object.entries(table)) {
    const where = path ? `${path}.${key}` : key;
    const r = resolveKey(key, fields, rel);
    if ('error' in r) {
      issues.push({ path: where, message: r.error, severity: 'error' });
      continue;
    }
    if (r.warn) issues.push({ path: where, message: r.warn, severity: 'warning' });
    if (Object.hasOwn(out, r.name)) {
      issues.push({ path: where, message: `"${r.name}" is given twice (kebab and snake spelling)`, severity: 'error' });
      continue;
    }
    const bad = typeIssue(r.spec, v, rel);
    if (bad) {
      issues.push({ path: where, message: bad, severity: 'error' });
      continue;
    }
    if (r.spec.kind === 'table' && r.spec.fields && isTable(v)) out[r.name] = walk(v, r.spec.fields, where, rel, issues);
    else if (r.spec.kind === 'fqdn' && isTable(v))
      out[r.name] = walk(v, { source: { kind: 'string', enum: ['from-dhcp'] }, domain: { kind: 'string' } }, where, rel, issues);
    else out[r.name] = v;
  }
  return out;
}

/** Checks every key and value type; returns the issues and the kebab-normalized document. */
export function checkKeys(doc: TomlTable, rel: IsoRelease): { issues: AnswerIssue[]; normalized: TomlTable } {
  const issues: AnswerIssue[] = [];
  const normalized = walk(doc, ANSWER_SCHEMA, '', rel, issues);
  return { issues, normalized };
}
