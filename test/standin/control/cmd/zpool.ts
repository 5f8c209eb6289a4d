// zpool (OpenZFS CLI subset): create [-f] [-o k=v] [-O k=v] [-m mp] <pool> [mirror|raidz..] <dev>...,
// list [-H] [-o fields] [pool], status [pool]. Pools are node-local; devices are the node's disks
// (ModelNode.disks; /dev/<name> or /dev/disk/by-id paths are accepted by basename).
import type { Zpool } from '../model/local.js';
import type { Ctx } from './io.js';

const TOP = new Set(['mirror', 'raidz', 'raidz1', 'raidz2', 'raidz3', 'stripe']);

function human(b: number): string {
  const u = ['', 'K', 'M', 'G', 'T'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) {
    b /= 1024;
    i++;
  }
  return i === 0 ? `${b}` : `${b < 10 ? b.toFixed(2) : b < 100 ? b.toFixed(1) : Math.round(b)}${u[i]}`;
}

export async function zpool(ctx: Ctx, args: string[]): Promise<number> {
  const m = ctx.m;
  const pools = m.local.pools(ctx.node);
  const [cmd, ...rest] = args;
  if (cmd === 'create') {
    const pos: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === '-f' || a === '-n' || a === '-d') continue;
      if (a === '-o' || a === '-O' || a === '-m' || a === '-R' || a === '-t') {
        i++;
        continue;
      }
      pos.push(a);
    }
    const [name, ...vdevs] = pos;
    if (!name || !vdevs.length) {
      ctx.err(name ? 'missing vdev specification\n' : 'missing pool name argument\n');
      return 2;
    }
    if (pools.has(name)) {
      ctx.err(`cannot create '${name}': pool already exists\n`);
      return 1;
    }
    const raid = TOP.has(vdevs[0]!) ? vdevs.shift()! : '';
    const disks = m.disks(ctx.node);
    let size = 0;
    for (const d of vdevs) {
      const base = d.replace(/^\/dev\/(disk\/by-id\/)?/, '');
      const dsize = disks[base];
      if (dsize === undefined) {
        ctx.err(`cannot open '${d}': no such device in /dev\nmust be a full path or shorthand device name\n`);
        return 1;
      }
      const inUse = [...pools.values()].find((p) => p.devices.includes(base));
      if (inUse) {
        ctx.err(`invalid vdev specification\nuse '-f' to override the following errors:\n/dev/${base} is part of active pool '${inUse.name}'\n`);
        return 1;
      }
      size = raid === 'mirror' ? (size ? Math.min(size, dsize) : dsize) : size + dsize;
    }
    const p: Zpool = { name, devices: vdevs.map((d) => d.replace(/^\/dev\/(disk\/by-id\/)?/, '')), size: Math.floor(size * 0.97), raid, created: m.clock.now() };
    pools.set(name, p);
    return 0;
  }
  if (cmd === 'list') {
    let scripted = false;
    let fields = ['name', 'size', 'alloc', 'free', 'ckpoint', 'expandsz', 'frag', 'cap', 'dedup', 'health', 'altroot'];
    const names: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === '-H') scripted = true;
      else if (rest[i] === '-p') continue;
      else if (rest[i] === '-o') fields = (rest[++i] ?? '').split(',');
      else names.push(rest[i]!);
    }
    for (const n of names) {
      if (!pools.has(n)) {
        ctx.err(`cannot open '${n}': no such pool\n`);
        return 1;
      }
    }
    const list = [...pools.values()].filter((p) => !names.length || names.includes(p.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
    if (!list.length) {
      ctx.out(scripted ? '' : 'no pools available\n');
      return 0;
    }
    const alloc = 108 * 1024;
    const val = (p: Zpool, f: string): string => ({ name: p.name, size: human(p.size), alloc: human(alloc), free: human(p.size - alloc), ckpoint: '-', expandsz: '-', frag: '0%', cap: '0%', dedup: '1.00x', health: 'ONLINE', altroot: '-' })[f] ?? '-';
    const rows = list.map((p) => fields.map((f) => val(p, f)));
    if (scripted) ctx.out(rows.map((r) => r.join('\t')).join('\n') + '\n');
    else {
      const head = fields.map((f) => f.toUpperCase());
      const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
      ctx.out([head, ...rows].map(line).join('\n') + '\n');
    }
    return 0;
  }
  if (cmd === 'status') {
    const names = rest.filter((a) => !a.startsWith('-'));
    const list = [...pools.values()].filter((p) => !names.length || names.includes(p.name));
    if (names.length && !list.length) {
      ctx.err(`cannot open '${names[0]}': no such pool\n`);
      return 1;
    }
    if (!list.length) {
      ctx.out('no pools available\n');
      return 0;
    }
    ctx.out(list.map((p) => {
      let s = `  pool: ${p.name}\n state: ONLINE\nconfig:\n\n\tNAME        STATE     READ WRITE CKSUM\n\t${p.name.padEnd(12)}ONLINE       0     0     0\n`;
      const ind = p.raid ? '    ' : '  ';
      if (p.raid) s += `\t  ${`${p.raid}-0`.padEnd(10)}ONLINE       0     0     0\n`;
      for (const d of p.devices) s += `\t${ind}${d.padEnd(12 - ind.length)}ONLINE       0     0     0\n`;
      return `${s}\nerrors: No known data errors\n`;
    }).join('\n'));
    return 0;
  }
  ctx.err(cmd ? `unrecognized command '${cmd}'\n` : 'missing command\n');
  return 2;
}
