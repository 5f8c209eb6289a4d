// pvesr (pve-manager CLI/pvesr.pm, API2/ReplicationConfig.pm, pve-guest-common ReplicationConfig):
// create-local-job, list, status, delete. Only zfspool volumes replicate (PVE::LXC::Config
// get_replicatable_volumes: "missing replicate feature on volume ..."; shared volumes are skipped).
// The modelled job syncs right after creation (the target gets a copy of the CT's rootfs data, so a
// recovered CT has what was there at that sync); `pvesr status` shows a sync every `schedule`
// minutes (*/N only), later changes are not copied.
import { die } from '../model/perl.js';
import { replicateVolume } from '../model/rootfs.js';
import { parseArgs } from './args.js';
import { abort } from './handle.js';
import type { Ctx } from './io.js';

const COMMANDS = ['create-local-job <id> <target> [OPTIONS]', 'delete <id> [OPTIONS]', 'list', 'status  [OPTIONS]'];

function fmtTime(t: number): string {
  return new Date(Math.floor(t) * 1000).toISOString().replace('T', '_').slice(0, 19);
}

function minutes(schedule: string): number {
  return Number(/^\*\/(\d+)$/.exec(schedule)?.[1] ?? 15);
}

export async function pvesr(ctx: Ctx, args: string[]): Promise<number> {
  const m = ctx.m;
  const [cmd, ...rest] = args;
  const db = () => m.view(ctx.node).db;
  switch (cmd) {
    case 'create-local-job': {
      const { params } = parseArgs({ cmd: 'pvesr create-local-job', args: ['id', 'target'], props: { id: {}, target: {}, schedule: { optional: true }, rate: { type: 'number', optional: true, min: 1 }, comment: { optional: true }, disable: { type: 'boolean', optional: true }, source: { optional: true } } }, rest);
      const mm = /^(\d+)-(\d+)$/.exec(params.id!);
      if (!mm) throw die(`invalid replication job id '${params.id}'`);
      const guest = Number(mm[1]);
      if (guest < 100) throw die(`invalid replication job id '${params.id}' (guest IDs < 100 are reserved)`);
      const g = db().guests.get(guest);
      if (!g) throw die(`Guest '${guest}' does not exist.`);
      if (!m.members().has(params.target!)) throw die(`Target '${params.target}' does not exist.`);
      if (params.source && params.source !== g.node) throw die(`Source '${params.source}' does not match current node of guest '${guest}' (${g.node})`);
      if (params.target === g.node) throw die('Source and target must not be identical');
      const vol = g.conf.rootfs?.split(',')[0] ?? '';
      const s = db().storage.get(vol.split(':')[0]!);
      if (s && (s.type === 'iscsi' || s.opts.shared === '1')) throw die('No replicatable volumes found');
      if (s?.type !== 'zfspool') throw die(`missing replicate feature on volume '${vol}'`);
      if (!m.view(ctx.node).writable) throw die("cfs-lock 'file-replication_cfg' error: no quorum!");
      if (db().repl.has(params.id!)) throw die(`replication job '${params.id}' already exists`);
      if ([...db().repl.values()].some((j) => j.guest === guest && j.target === params.target)) {
        throw die(`replication job for guest '${guest}' to target 'local/${params.target}' already exists`);
      }
      m.local.volumeNodes.get(vol)?.add(params.target!); // first sync right away (modelled), with the CT's files
      replicateVolume(m, vol, g.node, params.target!);
      db().repl.set(params.id!, { id: params.id!, guest, target: params.target!, source: g.node, schedule: params.schedule ?? '*/15', rate: params.rate, comment: params.comment, disable: params.disable === '1' });
      return 0;
    }
    case 'list': {
      parseArgs({ cmd: 'pvesr list', props: {} }, rest);
      const f = (a: string, b: string, c: string, d: string, e: string) => `${a.padEnd(20)} ${b.padEnd(20)} ${c.padStart(10)} ${d.padStart(5)} ${e.padStart(8)}\n`;
      ctx.out(f('JobID', 'Target', 'Schedule', 'Rate', 'Enabled'));
      for (const j of [...db().repl.values()].sort((a, b) => a.guest - b.guest)) ctx.out(f(j.id, `local/${j.target}`, j.schedule, j.rate ?? '-', j.disable ? 'no' : 'yes'));
      return 0;
    }
    case 'status': {
      parseArgs({ cmd: 'pvesr status', props: { guest: { type: 'integer', optional: true } } }, rest);
      const f = (...c: string[]) => `${c[0]!.padEnd(10)} ${c[1]!.padEnd(10)} ${c[2]!.padEnd(20)} ${c[3]!.padStart(20)} ${c[4]!.padStart(20)} ${c[5]!.padStart(10)} ${c[6]!.padStart(10)} ${c[7]}\n`;
      ctx.out(f('JobID', 'Enabled', 'Target', 'LastSync', 'NextSync', 'Duration', 'FailCount', 'State'));
      const now = m.clock.now();
      for (const j of [...db().repl.values()].filter((x) => x.source === ctx.node).sort((a, b) => a.guest - b.guest)) {
        const period = minutes(j.schedule) * 60;
        const last = Math.floor(now / period) * period;
        ctx.out(f(j.id, j.disable ? 'No' : 'Yes', `local/${j.target}`, fmtTime(last), fmtTime(last + period), '2.1', '0', 'OK'));
      }
      return 0;
    }
    case 'delete': {
      const { params } = parseArgs({ cmd: 'pvesr delete', args: ['id'], props: { id: {}, force: { type: 'boolean', optional: true }, keep: { type: 'boolean', optional: true } } }, rest);
      if (!db().repl.delete(params.id!)) throw die(`no such job '${params.id}'`);
      return 0;
    }
    case undefined:
      return abort(ctx, 'pvesr', 'no command specified', COMMANDS);
    default:
      return abort(ctx, 'pvesr', `unknown command 'pvesr ${cmd}'`, COMMANDS);
  }
}
