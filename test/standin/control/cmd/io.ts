// Command I/O of the stand-in: stdout/stderr buffers, stdin read on demand, line by line or all of
// it (a command reads only what the real one reads: `pvecm add` one password line, then one yes/no
// line; `pct exec -- tee` everything), and
// PVE's output formats (--output-format text|json|json-pretty|yaml; text tables in the ASCII
// style pve-common CLIFormatter uses when the locale is not UTF-8, as in a plain ssh session).
import type { ClusterModel } from '../model/cluster.js';
import { toJson, toJsonPretty } from '../model/perl.js';

export interface Stdin {
  /** next line without its newline; null at EOF */
  readLine(): Promise<string | null>;
  /** everything left up to EOF, byte for byte ('' at EOF) — `pct exec -- tee` */
  readAll(): Promise<string>;
}

export function stringStdin(s: string): Stdin {
  let pos = 0;
  return {
    readLine: async () => {
      if (pos >= s.length) return null;
      const nl = s.indexOf('\n', pos);
      const line = s.slice(pos, nl < 0 ? s.length : nl);
      pos = nl < 0 ? s.length : nl + 1;
      return line;
    },
    readAll: async () => {
      const rest = s.slice(pos);
      pos = s.length;
      return rest;
    },
  };
}

export interface Ctx {
  m: ClusterModel;
  node: string;
  stdin: Stdin;
  out(s: string): void;
  err(s: string): void;
}

export interface FormatOpts {
  'output-format'?: string;
  noborder?: string;
  noheader?: string;
  quiet?: string;
}

export const FORMAT_PROPS = {
  'output-format': { optional: true, enum: ['text', 'json', 'json-pretty', 'yaml'] },
  noborder: { type: 'boolean' as const, optional: true },
  noheader: { type: 'boolean' as const, optional: true },
  'human-readable': { type: 'boolean' as const, optional: true },
  quiet: { type: 'boolean' as const, optional: true },
};

export function printResult(ctx: Ctx, data: unknown, o: FormatOpts, columns?: string[]): void {
  if (o.quiet === '1' || data === undefined || data === null) return;
  const fmt = o['output-format'] ?? 'text';
  if (fmt === 'json') return ctx.out(`${toJson(data)}\n`);
  if (fmt === 'json-pretty') return ctx.out(toJsonPretty(data));
  if (fmt === 'yaml') return ctx.out(yaml(data, 0) + (typeof data === 'object' ? '' : '\n'));
  if (typeof data !== 'object') return ctx.out(`${String(data)}\n`);
  const border = o.noborder !== '1';
  const header = o.noheader !== '1';
  if (Array.isArray(data)) {
    if (!data.length) return;
    const cols = columns ?? [...new Set(data.flatMap((d) => Object.keys(d as object)))].sort();
    return ctx.out(table(cols, data.map((d) => cols.map((c) => text((d as Record<string, unknown>)[c]))), border, header));
  }
  const keys = Object.keys(data).sort();
  ctx.out(table(['key', 'value'], keys.map((k) => [k, text((data as Record<string, unknown>)[k])]), border, header));
}

function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return toJson(v);
  return String(v);
}

function table(cols: string[], rows: string[][], border: boolean, header: boolean): string {
  const w = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => border
    ? cells.map((c, i) => `| ${c.padEnd(w[i]!)} `).join('') + '|'
    : cells.map((c, i) => (i === cells.length - 1 ? c : `${c.padEnd(w[i]!)} `)).join('');
  const sep = (ch: string) => w.map((x) => `+${ch.repeat(x + 2)}`).join('') + '+';
  let out = border ? `${sep('-')}\n` : '';
  if (header) out += `${line(cols)}\n`;
  rows.forEach((r, i) => {
    if (border && (i > 0 || header)) out += `${sep(i === 0 && header ? '=' : '-')}\n`;
    out += `${line(r)}\n`;
  });
  if (border) out += `${sep('-')}\n`;
  return out;
}

function yaml(v: unknown, ind: number): string {
  const pad = '  '.repeat(ind);
  if (Array.isArray(v)) return v.length ? v.map((x) => `${pad}- ${yaml(x, ind + 1).trimStart()}`).join('') : `${pad}[]\n`;
  if (v && typeof v === 'object') {
    const ks = Object.keys(v).sort();
    if (!ks.length) return `${pad}{}\n`;
    return (ind === 0 ? '---\n' : '') + ks.map((k) => {
      const x = (v as Record<string, unknown>)[k];
      return x && typeof x === 'object' ? `${pad}${k}:\n${yaml(x, ind + 1)}` : `${pad}${k}: ${String(x)}\n`;
    }).join('');
  }
  return `${pad}${String(v)}\n`;
}
