// pvesm (pve-storage CLI/pvesm.pm): add, remove, status, list, scan iscsi|zfs. `status` columns:
// "Name Type Status Total Used Available %" (+ " (KiB)" headers from libpve-storage-perl 9.0.14).
import { die, paramError } from '../model/perl.js';
import { ALL_TYPES, TYPES } from '../model/storage.js';
import { addStorage, scanIscsi, storageInfo, volumes } from '../model/storage-ops.js';
import { type Prop, parseArgs } from './args.js';
import { abort } from './handle.js';
import { type Ctx, FORMAT_PROPS } from './io.js';

const COMMANDS = ['add <type> <storage> [OPTIONS]', 'list <storage> [OPTIONS]', 'remove <storage>', 'scan iscsi <portal>', 'scan zfs', 'set <storage> [OPTIONS]', 'status  [OPTIONS]'];
export const ALL_PROPS: Record<string, Prop> = {};
const BOOLS = new Set(['shared', 'sparse', 'disable', 'saferemove', 'tagged_only', 'is_mountpoint', 'create-base-path', 'create-subdirs', 'mkdir', 'snapshot-as-volume-chain']);
for (const t of Object.values(TYPES)) for (const k of [...t.required, ...t.optional]) ALL_PROPS[k] = BOOLS.has(k) ? { type: 'boolean', optional: true } : { optional: true };
for (const k of ['server', 'export', 'share', 'username', 'password', 'datastore', 'fingerprint', 'monhost', 'pool', 'iscsiprovider', 'lio_tpg', 'blocksize', 'comment']) ALL_PROPS[k] = { optional: true };

export async function pvesm(ctx: Ctx, args: string[]): Promise<number> {
  const m = ctx.m;
  const [cmd, ...rest] = args;
  switch (cmd) {
    case 'add': {
      const { params } = parseArgs({ cmd: 'pvesm add', args: ['type', 'storage'], props: { type: { enum: ALL_TYPES }, storage: {}, ...ALL_PROPS } }, rest);
      const { type, storage, ...opts } = params;
      await addStorage(m, ctx.node, type!, storage!, opts, (s) => ctx.err(s));
      return 0;
    }
    case 'remove': {
      const { params } = parseArgs({ cmd: 'pvesm remove', args: ['storage'], props: { storage: {} } }, rest);
      const db = m.view(ctx.node).db;
      if (!m.view(ctx.node).writable) throw die("delete storage failed: cfs-lock 'file-storage_cfg' error: no quorum!");
      if (!db.storage.has(params.storage!)) throw die(`delete storage failed: storage '${params.storage}' does not exist`);
      if ([...db.storage.values()].some((s) => s.opts.base?.startsWith(`${params.storage}:`))) throw die(`delete storage failed: can't remove storage - storage is used as base of another storage`);
      db.storage.delete(params.storage!);
      return 0;
    }
    case 'status': {
      const { params } = parseArgs({ cmd: 'pvesm status', props: { content: { optional: true }, enabled: { type: 'boolean', optional: true }, format: { type: 'boolean', optional: true }, storage: { optional: true }, target: { optional: true } } }, rest);
      let list = storageInfo(m, ctx.node);
      if (params.storage) {
        list = list.filter((s) => s.storage === params.storage);
        if (!list.length) throw paramError({ storage: 'No such storage.' }, 'pvesm status  [OPTIONS]');
      }
      if (params.content) list = list.filter((s) => s.enabled && params.content!.split(',').some((c) => s.content.split(',').includes(c)));
      if (params.enabled === '1') list = list.filter((s) => s.enabled);
      const kib = m.release(ctx.node).pvesmKiB ? ' (KiB)' : '';
      const w = Math.max(...list.map((s) => s.storage.length), 0) + 1;
      ctx.out(`${'Name'.padEnd(w)} ${'Type'.padStart(10)} ${'Status'.padStart(10)} ${`Total${kib}`.padStart(15)} ${`Used${kib}`.padStart(15)} ${`Available${kib}`.padStart(15)} ${'%'.padStart(8)}\n`);
      for (const s of [...list].sort((a, b) => (a.storage < b.storage ? -1 : 1))) {
        const st = !s.enabled ? 'disabled' : s.active ? 'active' : 'inactive';
        const pct = !s.enabled ? 'N/A'.padStart(8) : `${(s.total > 0 ? (s.used * 100) / s.total : 0).toFixed(2).padStart(7)}%`;
        const k = (b: number) => String(Math.floor(b / 1024)).padStart(15);
        ctx.out(`${s.storage.padEnd(w)} ${s.type.padStart(10)} ${st.padStart(10)} ${k(s.total)} ${k(s.used)} ${k(s.avail)} ${pct}\n`);
      }
      return 0;
    }
    case 'list': {
      const { params } = parseArgs({ cmd: 'pvesm list', args: ['storage'], props: { storage: {}, content: { optional: true }, vmid: { type: 'integer', optional: true }, ...FORMAT_PROPS } }, rest);
      if (!m.view(ctx.node).db.storage.has(params.storage!)) throw die(`storage '${params.storage}' does not exist`);
      if (m.view(ctx.node).db.storage.get(params.storage!)!.type === 'dir') await m.refreshTemplates(ctx.node);
      const vols = volumes(m, ctx.node, params.storage!).filter((v) => (!params.content || v.content === params.content) && (!params.vmid || v.vmid === Number(params.vmid)));
      const wn = Math.max(...vols.map((v) => v.volid.length), 0);
      const ws = Math.max(...vols.map((v) => String(v.size).length), 0);
      const row = (a: string, b: string, c: string, d: string) => `${a.padEnd(wn)} ${b.padEnd(7)} ${c.padEnd(9)} ${d.padStart(ws)}`;
      ctx.out(`${row('Volid', 'Format', 'Type', 'Size')} VMID\n`);
      for (const v of vols.filter((x) => x.vmid)) ctx.out(`${row(v.volid, v.format, v.content, String(v.size))} ${v.vmid}\n`);
      for (const v of vols.filter((x) => !x.vmid).sort((a, b) => (a.format < b.format ? -1 : 1))) ctx.out(`${row(v.volid, v.format, v.content, String(v.size))}\n`);
      return 0;
    }
    case 'scan': {
      const [sub, ...r2] = rest;
      if (sub === 'iscsi') {
        const { params } = parseArgs({ cmd: 'pvesm scan iscsi', args: ['portal'], props: { portal: {} } }, r2);
        const res = scanIscsi(m, ctx.node, params.portal!);
        const w = Math.max(...res.map((r) => r.target.length), 0);
        for (const r of res) ctx.out(`${r.target.padEnd(w)} ${r.portal}\n`);
        return 0;
      }
      if (sub === 'zfs') {
        parseArgs({ cmd: 'pvesm scan zfs', props: {} }, r2);
        for (const p of [...m.local.pools(ctx.node).keys()].sort()) ctx.out(`${p}\n`);
        return 0;
      }
      return abort(ctx, 'pvesm', sub ? `unknown command 'pvesm scan ${sub}'` : "incomplete command 'pvesm scan'", COMMANDS);
    }
    case undefined:
      return abort(ctx, 'pvesm', 'no command specified', COMMANDS);
    default:
      return abort(ctx, 'pvesm', `unknown command 'pvesm ${cmd}'`, COMMANDS);
  }
}
