// Command-line parsing the way PVE CLIs do it (pve-common JSONSchema.pm get_options + RESTHandler
// cli_handler): Getopt::Long with prefix "--" or "-", "--k v" / "--k=v", options and arguments
// mixed; booleans take an optional value (":s"); positional args from `args`; errors are
// PVE::Exception 400s whose text ends with the short usage "<cmd> <arg> [OPTIONS]".
import { PveError, paramError } from '../model/perl.js';

export type PropType = 'string' | 'integer' | 'number' | 'boolean';

export interface Prop {
  type?: PropType;
  optional?: boolean;
  min?: number;
  max?: number;
  maxLength?: number;
  pattern?: RegExp;
  enum?: string[];
  /** validator returning an error text ("invalid format - ...") */
  format?: (v: string) => string | undefined;
}

export interface CmdSpec {
  cmd: string; // "pvecm add"
  args?: string[]; // positional names; 'extra-args' collects the rest
  props: Record<string, Prop>;
  /** properties matching this are accepted too (e.g. /^net\d+$/ for pct) */
  dynamic?: Array<[RegExp, Prop]>;
}

export interface Parsed {
  params: Record<string, string>;
  extra: string[];
  stderr: string;
}

export function usage(spec: CmdSpec): string {
  const args = (spec.args ?? []).map((a) => (a === 'extra-args' ? '<extra-args>' : spec.props[a]?.optional ? `[<${a}>]` : `<${a}>`)).join(' ');
  const hasOpts = Object.keys(spec.props).some((k) => !(spec.args ?? []).includes(k)) || !!spec.dynamic?.length;
  return `${spec.cmd}${args ? ` ${args}` : ''}${hasOpts ? ' [OPTIONS]' : ''}`;
}

function propOf(spec: CmdSpec, name: string): Prop | undefined {
  return spec.props[name] ?? spec.dynamic?.find(([re]) => re.test(name))?.[1];
}

/** Throws PveError (stderr prefix for Getopt warnings is returned through err.usage). */
export function parseArgs(spec: CmdSpec, argv: string[]): Parsed {
  const params: Record<string, string> = {};
  const rest: string[] = [];
  let stderr = '';
  let bad = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(a);
    if (!m || /^-?\d/.test(a)) {
      rest.push(a);
      continue;
    }
    const name = m[1]!;
    const prop = propOf(spec, name);
    if (!prop || (spec.args ?? []).includes(name)) {
      stderr += `Unknown option: ${name}\n`;
      bad = true;
      continue;
    }
    let v = m[2];
    if (v === undefined) {
      const next = argv[i + 1];
      if (prop.type === 'boolean') {
        if (next !== undefined && !/^--?[A-Za-z]/.test(next) && /^(0|1|yes|no|on|off|true|false)$/i.test(next)) v = argv[++i];
        else v = '';
      } else if (next === undefined) {
        stderr += `Option ${name} requires an argument\n`;
        bad = true;
        continue;
      } else v = argv[++i];
    }
    params[name] = v!;
  }
  if (bad) throw withUsage(new PveError('unable to parse option\n', 400), spec, stderr);
  const extra: string[] = [];
  const names = spec.args ?? [];
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (n === 'extra-args') {
      extra.push(...rest.splice(0));
      break;
    }
    if (!rest.length) {
      if (names.slice(i).some((x) => x !== 'extra-args' && !spec.props[x]?.optional)) throw withUsage(new PveError('not enough arguments\n', 400), spec, stderr);
      break;
    }
    params[n] = rest.shift()!;
  }
  if (rest.length) throw withUsage(new PveError('too many arguments\n', 400), spec, stderr);
  const errors: Record<string, string> = {};
  for (const [k, p] of Object.entries(spec.props)) if (!p.optional && params[k] === undefined) errors[k] = 'property is missing and it is not optional';
  for (const [k, v] of Object.entries(params)) {
    const e = checkValue(propOf(spec, k)!, v);
    if (e !== undefined) errors[k] = e;
    else if (propOf(spec, k)!.type === 'boolean') params[k] = /^(1|yes|on|true|)$/i.test(v) ? '1' : '0';
  }
  if (Object.keys(errors).length) throw withUsage(paramError(errors), spec, stderr);
  return { params, extra, stderr };
}

function withUsage(e: PveError, spec: CmdSpec, stderr: string): PveError {
  e.usage = usage(spec);
  (e as PveError & { prefix?: string }).prefix = stderr;
  return e;
}

export function checkValue(p: Prop, v: string): string | undefined {
  const t = p.type ?? 'string';
  if (t === 'boolean' && !/^(0|1|yes|no|on|off|true|false|)$/i.test(v)) return `type check ('boolean') failed - got '${v}'`;
  if (t === 'integer' && !/^-?\d+$/.test(v)) return `type check ('integer') failed - got '${v}'`;
  if (t === 'number' && !/^-?\d+(\.\d+)?$/.test(v)) return `type check ('number') failed - got '${v}'`;
  if ((t === 'integer' || t === 'number') && p.min !== undefined && Number(v) < p.min) return `value must have a minimum value of ${p.min}`;
  if ((t === 'integer' || t === 'number') && p.max !== undefined && Number(v) > p.max) return `value must have a maximum value of ${p.max}`;
  if (p.enum && !p.enum.includes(v)) return `value '${v}' does not have a value in the enumeration '${p.enum.join(', ')}'`;
  if (p.format) {
    const e = p.format(v);
    if (e) return `invalid format - ${e}`;
  }
  if (p.pattern && !p.pattern.test(v)) return 'value does not match the regex pattern';
  if (p.maxLength !== undefined && v.length > p.maxLength) return `value may only be ${p.maxLength} characters long`;
  return undefined;
}

/** Perl-side rendering of an error (uncaught die) for stderr: Getopt lines first. */
export function errorText(e: unknown): string {
  if (e instanceof PveError) return ((e as PveError & { prefix?: string }).prefix ?? '') + e.stringify();
  return `${String((e as Error)?.message ?? e)}\n`;
}
