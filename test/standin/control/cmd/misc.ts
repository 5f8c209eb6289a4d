// pveversion (pve-manager bin/pveversion), journalctl (systemd subset: -u, -S/--since, -U/--until,
// -o, -n, -r, -b, -q, --no-pager, --no-hostname, --utc) and systemctl (is-active, is-enabled,
// status, start|stop|restart|reload-or-restart as no-ops) of a stand-in node.
import { type JournalMode, parseTimestamp } from '../model/journal.js';
import type { Ctx } from './io.js';

export async function pveversion(ctx: Ctx, args: string[]): Promise<number> {
  const r = ctx.m.release(ctx.node);
  const verbose = args.some((a) => a === '-v' || a === '--verbose');
  if (args.some((a) => a !== '-v' && a !== '--verbose')) {
    const bad = args.find((a) => a !== '-v' && a !== '--verbose')!;
    ctx.err(`${bad.startsWith('-') ? `Unknown option: ${bad.replace(/^-+/, '')}\n` : ''}USAGE: pveversion [--verbose]\n`);
    return 255;
  }
  const ver = `pve-manager/${r.manager}/${r.repoid}`;
  if (!verbose) {
    ctx.out(`${ver} (running kernel: ${r.kernel})\n`);
    return 0;
  }
  ctx.out(`proxmox-ve: ${r.proxmoxVe} (running kernel: ${r.kernel})\n`);
  ctx.out(`pve-manager: ${r.manager} (running version: ${r.manager}/${r.repoid})\n`);
  for (const [p, v] of r.packages) ctx.out(`${p}: ${v}\n`);
  return 0;
}

const MODES = new Set(['short', 'short-iso', 'short-iso-precise', 'short-precise', 'short-unix', 'cat', 'json']);

export async function journalctl(ctx: Ctx, args: string[]): Promise<number> {
  const m = ctx.m;
  const units: string[] = [];
  let since: number | undefined;
  let until: number | undefined;
  let mode: JournalMode = 'short';
  let lines: number | undefined;
  let reverse = false;
  let quiet = false;
  let noHostname = false;
  let boot: string | undefined;
  const val = (i: number, a: string): [string, number] => {
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) return [a.slice(eq + 1), i];
    if (/^-[uSUon]./.test(a)) return [a.slice(2), i];
    return [args[i + 1] ?? '', i + 1];
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const key = a.startsWith('--') ? a.replace(/=.*$/, '') : a.slice(0, 2);
    let v: string;
    switch (key) {
      case '-u': case '--unit': [v, i] = val(i, a); units.push(v); break;
      case '-S': case '--since': {
        [v, i] = val(i, a);
        since = parseTimestamp(v, m.clock.now());
        if (since === undefined) return fail(ctx, `Failed to parse timestamp: ${v}`);
        break;
      }
      case '-U': case '--until': {
        [v, i] = val(i, a);
        until = parseTimestamp(v, m.clock.now());
        if (until === undefined) return fail(ctx, `Failed to parse timestamp: ${v}`);
        break;
      }
      case '-o': case '--output': {
        [v, i] = val(i, a);
        if (!MODES.has(v)) return fail(ctx, `Unknown output format '${v}'.`);
        mode = v as JournalMode;
        break;
      }
      case '-n': case '--lines': [v, i] = val(i, a); lines = Number(v || 10); break;
      case '-r': case '--reverse': reverse = true; break;
      case '-q': case '--quiet': quiet = true; break;
      case '-b': case '--boot': boot = m.node(ctx.node).bootId; if (args[i + 1] === '0') i++; break;
      case '--no-pager': case '--utc': case '-l': case '--full': case '-a': case '--all': break;
      case '--no-hostname': noHostname = true; break;
      default: return fail(ctx, `${a.startsWith('-') ? `unrecognized option '${a}'` : `"${a}" does not describe a valid match`}`);
    }
  }
  const entries = m.journal.query(ctx.node, { units: units.length ? units : undefined, since, until, lines, reverse, boot });
  ctx.out(m.journal.render(entries, mode, m.release(ctx.node).isoColon, { quiet, noHostname }));
  return 0;
}

function fail(ctx: Ctx, msg: string): number {
  ctx.err(`${msg}\n`);
  return 1;
}

/** unit -> active? on this node */
function unitActive(ctx: Ctx, unit: string): boolean | undefined {
  const m = ctx.m;
  const u = unit.replace(/\.service$/, '');
  const member = m.cfs.isMember(ctx.node);
  const always = ['pve-cluster', 'pve-ha-crm', 'pve-ha-lrm', 'pveproxy', 'pvedaemon', 'pvestatd', 'pve-firewall', 'watchdog-mux', 'ssh', 'sshd', 'chrony', 'cron', 'systemd-journald', 'pvescheduler', 'lxcfs', 'rrdcached', 'spiceproxy'];
  if (u === 'corosync') return member;
  if (always.includes(u)) return true;
  if (u === 'open-iscsi' || u === 'iscsid') return true;
  return undefined;
}

export async function systemctl(ctx: Ctx, args: string[]): Promise<number> {
  const opts = args.filter((a) => a.startsWith('-'));
  const [cmd, ...units] = args.filter((a) => !a.startsWith('-'));
  const quiet = opts.includes('--quiet') || opts.includes('-q');
  if (cmd === 'is-active') {
    let all = true;
    for (const u of units) {
      const a = unitActive(ctx, u);
      if (!a) all = false;
      if (!quiet) ctx.out(`${a ? 'active' : 'inactive'}\n`);
    }
    return all && units.length ? 0 : 3;
  }
  if (cmd === 'is-enabled') {
    let all = true;
    for (const u of units) {
      const known = unitActive(ctx, u) !== undefined;
      if (!known) {
        ctx.err(`Failed to get unit file state for ${u.includes('.') ? u : `${u}.service`}: No such file or directory\n`);
        all = false;
      } else if (!quiet) ctx.out('enabled\n');
    }
    return all ? 0 : 1;
  }
  if (cmd === 'start' || cmd === 'stop' || cmd === 'restart' || cmd === 'reload-or-restart' || cmd === 'reload') {
    for (const u of units) {
      if (unitActive(ctx, u) === undefined) {
        ctx.err(`Failed to ${cmd} ${u.includes('.') ? u : `${u}.service`}: Unit ${u.includes('.') ? u : `${u}.service`} not found.\n`);
        return 5;
      }
    }
    return 0;
  }
  if (cmd === 'status') {
    let rc = 0;
    for (const u of units) {
      const a = unitActive(ctx, u);
      const name = u.includes('.') ? u : `${u}.service`;
      if (a === undefined) {
        ctx.err(`Unit ${name} could not be found.\n`);
        rc = 4;
        continue;
      }
      ctx.out(`● ${name}\n     Loaded: loaded (/lib/systemd/system/${name}; enabled; preset: enabled)\n     Active: ${a ? 'active (running)' : 'inactive (dead)'}\n`);
      if (!a && rc === 0) rc = 3;
    }
    return rc;
  }
  ctx.err(cmd ? `Unknown command verb ${cmd}.\n` : 'Too few arguments.\n');
  return 1;
}
