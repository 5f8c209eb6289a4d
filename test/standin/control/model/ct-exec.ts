// Commands inside a container (`pct exec <vmid> -- ...`, i.e. lxc-attach), answered from the CT's
// rootfs (rootfs.ts) the way a Debian standard container answers them: true/false, env, cat, tee,
// hostname, dpkg-query, apt-get (apt.ts), systemctl is-active, and `sh|bash -c` with `&&`, `||`, `;`.
// Anything else fails like lxc-attach does for a missing program (attach.c lxc_attach_run_command:
// "Failed to exec", exit 127), with a stand-in note naming what is modelled.
import type { GuestConf } from './cfs.js';
import type { ClusterModel } from './cluster.js';
import { aptGet } from './apt.js';
import { type Rootfs, installed, isDir, parentOf } from './rootfs.js';

export interface CtProc {
  m: ClusterModel;
  node: string;
  g: GuestConf;
  fs: Rootfs;
  env: Record<string, string>;
  /** the rest of stdin (read on first use; '' afterwards) */
  stdin(): Promise<string>;
  readLine(): Promise<string | null>;
  out(s: string): void;
  err(s: string): void;
}

export const MODELLED = ['true', 'false', 'env', 'cat', 'tee', 'hostname', 'dpkg-query', 'apt-get', 'systemctl is-active', 'sh -c', 'bash -c'];

const abs = (p: string) => (p.startsWith('/') ? p : `/root/${p}`).replace(/\/+/g, '/').replace(/(.)\/$/, '$1');

export async function ctExec(p: CtProc, argv: string[]): Promise<number> {
  const [cmd0, ...args] = argv;
  const cmd = (cmd0 ?? '').replace(/^.*\//, '');
  switch (cmd) {
    case 'true':
      return 0;
    case 'false':
      return 1;
    case 'env': {
      const env = { ...p.env };
      let i = 0;
      for (; i < args.length; i++) {
        const a = args[i]!;
        if (a === '-i') for (const k of Object.keys(env)) delete env[k];
        else if (/^[A-Za-z_]\w*=/.test(a)) env[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
        else break;
      }
      if (i >= args.length) {
        p.out(Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''));
        return 0;
      }
      return ctExec({ ...p, env }, args.slice(i));
    }
    case 'hostname':
      p.out(`${p.g.conf.hostname ?? `CT${p.g.vmid}`}\n`);
      return 0;
    case 'cat': {
      let rc = 0;
      for (const f of args.length ? args : ['-']) {
        if (f === '-') p.out(await p.stdin());
        else if (isDir(p.fs, abs(f))) (p.err(`cat: ${f}: Is a directory\n`), (rc = 1));
        else if (!p.fs.files.has(abs(f))) (p.err(`cat: ${f}: No such file or directory\n`), (rc = 1));
        else p.out(p.fs.files.get(abs(f))!);
      }
      return rc;
    }
    case 'tee': {
      const append = args.includes('-a') || args.includes('--append');
      const data = await p.stdin();
      let rc = 0;
      for (const f of args.filter((a) => !a.startsWith('-'))) {
        const path = abs(f);
        if (isDir(p.fs, path)) (p.err(`tee: ${f}: Is a directory\n`), (rc = 1));
        else if (!isDir(p.fs, parentOf(path))) (p.err(`tee: ${f}: No such file or directory\n`), (rc = 1));
        else p.fs.files.set(path, (append ? p.fs.files.get(path) ?? '' : '') + data);
      }
      p.out(data);
      return rc;
    }
    case 'dpkg-query':
      return dpkgQuery(p, args);
    case 'apt-get':
      if (!installed(p.fs).has('apt')) return notFound(p, cmd0!);
      return aptGet(p, args);
    case 'systemctl': {
      if (args[0] !== 'is-active' || !args[1]) return notModelled(p, `systemctl ${args[0] ?? ''}`);
      const active = args[1].replace(/\.service$/, '') === 'apache2' && installed(p.fs).has('apache2');
      p.out(active ? 'active\n' : 'inactive\n');
      return active ? 0 : 3;
    }
    case 'sh':
    case 'bash':
      if (args[0] !== '-c' || args[1] === undefined) return notModelled(p, `${cmd} ${args.join(' ')}`);
      return shell(p, cmd, args[1]);
    default:
      return notFound(p, cmd0 ?? '');
  }
}

function notFound(p: CtProc, prog: string): number {
  p.err(`lxc-attach: ${p.g.vmid}: ../src/lxc/attach.c: lxc_attach_run_command: 1845 No such file or directory - Failed to exec "${prog}"\n`);
  p.err(`stand-in: commands modelled inside containers: ${MODELLED.join(', ')}\n`);
  return 127;
}

function notModelled(p: CtProc, what: string): number {
  p.err(`stand-in: '${what}' is not modelled inside containers (modelled: ${MODELLED.join(', ')})\n`);
  return 127;
}

/** dpkg-query -W [-f=FMT|--showformat=FMT] PKG... | -s PKG... (dpkg 1.21 query.c wording) */
async function dpkgQuery(p: CtProc, args: string[]): Promise<number> {
  let mode = '';
  let fmt = '${binary:Package}\t${Version}\n';
  const pkgs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-W' || a === '--show') mode = 'W';
    else if (a === '-s' || a === '--status') mode = 's';
    else if (a.startsWith('-f=') || a.startsWith('--showformat=')) fmt = a.slice(a.indexOf('=') + 1);
    else if (a === '-f' || a === '--showformat') fmt = args[++i] ?? '';
    else if (a.startsWith('-Wf')) (mode = 'W'), (fmt = a.slice(3));
    else pkgs.push(a);
  }
  if (!mode) {
    p.err('dpkg-query: error: need an action option\n\nType dpkg-query --help for help about querying packages.\n');
    return 2;
  }
  const db = installed(p.fs);
  let rc = 0;
  for (const name of pkgs) {
    const f = db.get(name);
    if (!f) {
      p.err(mode === 'W' ? `dpkg-query: no packages found matching ${name}\n` : `dpkg-query: package '${name}' is not installed and no information is available\nUse dpkg --info (= dpkg-deb --info) to examine archive files.\n`);
      rc = 1;
      continue;
    }
    if (mode === 's') p.out(Object.entries(f).map(([k, v]) => `${k}: ${v}\n`).join('') + '\n');
    else {
      const fields: Record<string, string> = { ...f, 'binary:Package': f.Package!, 'db:Status-Abbrev': 'ii ' };
      p.out(fmt.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\$\{([\w:-]+)(?:;-?\d+)?\}/g, (_, k: string) => fields[k] ?? ''));
    }
  }
  return rc;
}

/** `sh -c` subset: words with '…' "…" and \ quoting, VAR=value prefixes, lists joined by && || ; */
async function shell(p: CtProc, sh: string, script: string): Promise<number> {
  const toks: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === "'") {
      const j = script.indexOf("'", i + 1);
      if (j < 0) return syntax(p, sh, 'unterminated quoted string');
      cur = (cur ?? '') + script.slice(i + 1, j);
      i = j;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      for (; j < script.length && script[j] !== '"'; j++) {
        if (script[j] === '\\' && /["\\$`]/.test(script[j + 1] ?? '')) s += script[++j];
        else if (/[$`]/.test(script[j]!)) return syntax(p, sh, `expansion '${script[j]}'`);
        else s += script[j];
      }
      if (j >= script.length) return syntax(p, sh, 'unterminated quoted string');
      cur = (cur ?? '') + s;
      i = j;
    } else if (c === '\\') cur = (cur ?? '') + (script[++i] ?? '');
    else if (/\s/.test(c) && c !== '\n') {
      if (cur !== undefined) toks.push(cur);
      cur = undefined;
    } else if (c === ';' || c === '\n' || script.startsWith('&&', i) || script.startsWith('||', i)) {
      if (cur !== undefined) toks.push(cur);
      cur = undefined;
      const op = c === '\n' ? ';' : c === ';' ? ';' : script.slice(i, i + 2);
      toks.push(`\0${op}`);
      if (op.length === 2) i++;
    } else if (/[|&<>$`()*?]/.test(c)) return syntax(p, sh, `'${c}'`);
    else cur = (cur ?? '') + c;
  }
  if (cur !== undefined) toks.push(cur);
  let rc = 0;
  let op = ';';
  let words: string[] = [];
  const run = async () => {
    if (!words.length) return;
    const skip = (op === '&&' && rc !== 0) || (op === '||' && rc === 0);
    if (!skip) {
      const env = { ...p.env };
      while (words.length > 1 && /^[A-Za-z_]\w*=/.test(words[0]!)) {
        const w = words.shift()!;
        env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
      }
      rc = await ctExec({ ...p, env }, words);
    }
    words = [];
  };
  for (const t of toks) {
    if (t.startsWith('\0')) {
      await run();
      op = t.slice(1);
    } else words.push(t);
  }
  await run();
  return rc;
}

function syntax(p: CtProc, sh: string, what: string): number {
  p.err(`stand-in: ${sh} -c: ${what} is not modelled inside containers (only words, quotes, VAR=value, &&, ||, ;)\n`);
  return 2;
}
