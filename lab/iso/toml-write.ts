// Writes TOML in the shape Proxmox's own answer files use: top-level tables as [section] headers,
// deeper tables as dotted keys inside their section (`zfs.raid = "raid0"`,
// `filter.ID_NET_NAME_MAC = "*5254…"`). Integers are bigint, floats are number (always written with
// a fraction). Insertion order of keys is kept, so the output is stable for the same input.
import { type TomlTable, type TomlValue, isTable } from './toml.js';

export function tomlKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : tomlString(k);
}

export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

export function tomlValue(v: TomlValue): string {
  if (typeof v === 'string') return tomlString(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    return Number.isInteger(v) ? v.toFixed(1) : String(v);
  }
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  const entries = Object.entries(v);
  return entries.length === 0 ? '{}' : `{ ${entries.map(([k, x]) => `${tomlKey(k)} = ${tomlValue(x)}`).join(', ')} }`;
}

/** `key = value` lines for a table, nested tables flattened to dotted keys. */
function lines(t: TomlTable, prefix: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(t)) {
    const key = prefix + tomlKey(k);
    if (isTable(v) && Object.keys(v).length > 0) out.push(...lines(v, `${key}.`));
    else out.push(`${key} = ${tomlValue(v)}`);
  }
  return out;
}

export function stringifyToml(doc: TomlTable): string {
  const top: TomlTable = {};
  const sections: [string, TomlTable][] = [];
  for (const [k, v] of Object.entries(doc)) {
    if (isTable(v)) sections.push([k, v]);
    else top[k] = v;
  }
  const blocks: string[] = [];
  const head = lines(top, '');
  if (head.length) blocks.push(head.join('\n'));
  for (const [name, t] of sections) blocks.push([`[${tomlKey(name)}]`, ...lines(t, '')].join('\n'));
  return blocks.join('\n\n') + '\n';
}
