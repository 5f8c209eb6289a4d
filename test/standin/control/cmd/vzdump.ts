// vzdump (pve-manager PVE/API2/VZDump.pm, PVE/VZDump.pm exec_backup/exec_backup_task; pve-container
// PVE/VZDump/LXC.pm; log lines "INFO: ..." from pve-guest-common VZDump/Plugin.pm debugmsg) for
// containers. Runs as a CLI sync worker (output on stdout, errors on stderr, exit 255 when the task
// failed). Guests of other nodes are skipped ("skip external VMs"; only those: silent exit 0); IDs
// nobody has fail "unable to find VM". --dumpdir must exist (VZDump->new dies "dumpdir '<d>' does
// not exist"); the default target is storage `local` (<path>/dump). The archive is a real file on
// the node: vzdump-lxc-<vmid>-<YYYY_MM_DD-HH_MM_SS>.tar.zst (./etc/vzdump/pct.conf first, then the
// CT's rootfs, model/rootfs.ts) plus the task log <same>.log. Modes: suspend (rsync passes), stop
// (also for stopped CTs), snapshot (zfspool/lvmthin; else "mode failure" -> suspend). Not
// modelled: --stdout, pruning, notes, PBS, hook scripts, mail.
import { createHash } from 'node:crypto';
import type { GuestConf } from '../model/cfs.js';
import { die, paramError } from '../model/perl.js';
import { ctRootfs, emptyRootfs, rootfsToTar } from '../model/rootfs.js';
import { compressFor } from '../model/tarzst.js';
import { type CmdSpec, parseArgs } from './args.js';
import type { Ctx } from './io.js';
import { tarTotals } from './pct-guest.js';
import { syncWorker } from './worker.js';

const opt = { optional: true };
const bool = { type: 'boolean' as const, optional: true };
const SPEC: CmdSpec = {
  cmd: 'vzdump', args: ['vmid'],
  props: {
    vmid: opt, all: bool, mode: { optional: true, enum: ['snapshot', 'suspend', 'stop'] }, compress: { optional: true, enum: ['0', '1', 'gzip', 'lzo', 'zstd'] },
    dumpdir: opt, storage: opt, quiet: bool, remove: bool, stdout: bool, tmpdir: opt, zstd: { type: 'integer', optional: true, min: 0 }, pigz: { type: 'integer', optional: true, min: 0 },
    ionice: { type: 'integer', optional: true, min: 0, max: 8 }, bwlimit: { type: 'integer', optional: true, min: 0 }, lockwait: { type: 'integer', optional: true, min: 0 },
    stopwait: { type: 'integer', optional: true, min: 0 }, mailto: opt, mailnotification: opt, 'notes-template': opt, protected: bool, 'prune-backups': opt,
    stdexcludes: bool, exclude: opt, 'exclude-path': opt, pool: opt, node: opt, script: opt, 'notification-mode': opt, fleecing: opt, performance: opt,
  },
};

const p2 = (n: number) => String(n).padStart(2, '0');
function stamp(t: number, dateSep: string, mid: string, timeSep: string): string {
  const d = new Date(Math.floor(t) * 1000);
  return `${d.getUTCFullYear()}${dateSep}${p2(d.getUTCMonth() + 1)}${dateSep}${p2(d.getUTCDate())}${mid}${p2(d.getUTCHours())}${timeSep}${p2(d.getUTCMinutes())}${timeSep}${p2(d.getUTCSeconds())}`;
}
const clock = (t: number) => stamp(t, '-', ' ', ':');

/** PVE::VZDump::format_size */
function formatSize(n: number): string {
  if (n / 1024 < 1024) return `${Math.floor(n / 1024)}KB`;
  if (n / 2 ** 20 < 1024) return `${Math.floor(n / 2 ** 20)}MB`;
  return `${(n / 2 ** 30).toFixed(2)}GB`;
}

/** rsync --stats -h "Total transferred file size" */
function rsyncSize(n: number): string {
  const u = ['', 'K', 'M', 'G'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) (n /= 1024), i++;
  return i ? `${n.toFixed(2)}${u[i]}` : String(n);
}

const EXT: Record<string, string> = { zstd: '.zst', gzip: '.gz', lzo: '.lzo', '1': '.lzo' };

export async function vzdump(ctx: Ctx, args: string[]): Promise<number> {
  const m = ctx.m;
  const { params } = parseArgs(SPEC, args);
  if (params.all === '1' && params.vmid) throw paramError({ all: "option conflicts with option 'vmid'" });
  if (params.all !== '1' && !params.vmid && !params.pool) throw paramError({ vmid: 'property is missing' });
  if (params.stdout === '1') throw die('stand-in: vzdump --stdout is not modelled');
  const db = m.view(ctx.node).db;
  const ids = params.all === '1' ? [...db.guests.keys()] : (params.vmid ?? '').split(/[,;\s]+/).filter(Boolean).map(Number);
  const local = ids.filter((id) => !db.guests.has(id) || db.guests.get(id)!.node === ctx.node).sort((a, b) => a - b);
  const skip = ids.filter((id) => !local.includes(id)).sort((a, b) => a - b);
  if (!local.length) return 0;
  const cmdline = ['vzdump', ...args.map((a) => (/\s/.test(a) ? `'${a}'` : a))].join(' ');
  const r = await syncWorker(ctx, 'vzdump', local.length === 1 ? String(local[0]) : '', async (w) => {
    const info = (s: string) => w.print(`INFO: ${s}\n`);
    // VZDump->new
    if (params.storage && params.dumpdir) throw die("cannot use options 'storage' and 'dumpdir' at the same time");
    let dumpdir = params.dumpdir?.replace(/\/+$/, '');
    if (dumpdir) {
      if (!(await m.effects.listNodeDir(ctx.node, dumpdir))) throw die(`dumpdir '${dumpdir}' does not exist`);
    } else {
      const sid = params.storage ?? 'local';
      const s = db.storage.get(sid);
      if (!s) throw die(`storage '${sid}' does not exist`);
      if (s.type !== 'dir' || !(s.opts.content ?? '').split(',').includes('backup')) throw die(`could not get storage information for '${sid}': storage '${sid}' does not support backups`);
      dumpdir = `${s.opts.path}/dump`;
    }
    info(`starting new backup job: ${cmdline}`);
    if (skip.length) info(`skip external VMs: ${skip.join(', ')}`);
    let errors = 0;
    for (const vmid of local) {
      const start = m.clock.now();
      const log: string[] = [];
      const task = (s: string, toLog = true) => {
        info(s);
        if (toLog) log.push(`${clock(m.clock.now())} INFO: ${s}`);
      };
      try {
        const g = db.guests.get(vmid);
        if (!g) throw die(`unable to find VM '${vmid}'`);
        const ha = db.haResources.get(`ct:${vmid}`);
        if (params.mode === 'stop' && ha && (ha.opts.state ?? 'started') === 'started') {
          throw die('Cannot execute a backup with stop mode on a HA managed and enabled Service. Use snapshot mode or disable the Service.');
        }
        const base = `vzdump-lxc-${vmid}-${stamp(start, '_', '-', '_')}`;
        const archive = `${dumpdir}/${base}.tar${EXT[params.compress ?? '0'] ?? ''}`;
        await backupCt(ctx, g, params.mode ?? 'snapshot', `${dumpdir}/${base}.tmp`, archive, task, params.ionice ?? '7');
        task(`Finished Backup of VM ${vmid} (${new Date((m.clock.now() - start) * 1000).toISOString().slice(11, 19)})`);
        info(`Backup finished at ${clock(m.clock.now())}`);
        await m.effects.writeNodeFile(ctx.node, `${dumpdir}/${base}.log`, Buffer.from(`${log.join('\n')}\n`));
      } catch (e) {
        errors++;
        const msg = (e as Error).message.replace(/\n$/, '');
        w.print(`ERROR: Backup of VM ${vmid} failed - ${msg}\n`);
        info(`Failed at ${clock(m.clock.now())}`);
      }
    }
    info(errors ? 'Backup job finished with errors' : 'Backup job finished successfully');
    if (errors) throw die('job errors');
  });
  return r.failed ? 255 : 0;
}

/** exec_backup_task for one CT: the task log lines, the pauses, the archive on the node's disk */
async function backupCt(ctx: Ctx, g: GuestConf, wanted: string, tmpdir: string, archive: string, task: (s: string, toLog?: boolean) => void, ionice: string): Promise<void> {
  const m = ctx.m;
  const running = m.guests.isRunning(ctx.node, g.vmid);
  task(`Starting Backup of VM ${g.vmid} (lxc)`);
  task(`Backup started at ${clock(m.clock.now())}`, false);
  task(`status = ${running ? 'running' : 'stopped'}`);
  let mode = running ? wanted : 'stop';
  const vol = g.conf.rootfs?.split(',')[0] ?? '';
  const stype = m.view(ctx.node).db.storage.get(vol.split(':')[0]!)?.type;
  if (mode === 'snapshot' && stype !== 'zfspool' && stype !== 'lvmthin') {
    task('mode failure - some volumes do not support snapshots');
    task("trying 'suspend' mode instead");
    mode = 'suspend';
  }
  task(`backup mode: ${mode}`);
  task(`ionice priority: ${ionice}`);
  if (g.conf.hostname) task(`CT Name: ${g.conf.hostname}`);
  task("including mount point rootfs ('/') in backup");
  const fs = ctRootfs(m, ctx.node, g) ?? emptyRootfs();
  const bytes = [...fs.files.values()].reduce((a, t) => a + Buffer.byteLength(t), 0);
  const pid = createHash('md5').update(`${ctx.node}|${g.vmid}`).digest().readUInt16BE(0) + 1000;
  const part = (f: number) => m.clock.sleep(m.t.vzdump * f);
  if (mode === 'suspend') {
    task(`starting first sync /proc/${pid}/root/ to ${tmpdir}`);
    await part(0.5);
    task(`first sync finished - transferred ${rsyncSize(bytes)} bytes in ${Math.round(m.t.vzdump * 0.5)}s`);
    task('suspending guest');
    task(`starting final sync /proc/${pid}/root/ to ${tmpdir}`);
    await part(0.1);
    task(`final sync finished - transferred 0 bytes in ${Math.round(m.t.vzdump * 0.1)}s`);
    task('resuming guest');
    task(`guest is online again after ${Math.max(1, Math.round(m.t.vzdump * 0.1))} seconds`);
  } else if (mode === 'snapshot') task("create storage snapshot 'vzdump'");
  else if (running) {
    task('stopping virtual guest'); // HA-managed started guests were refused above
    await m.guests.stop(ctx.node, g.vmid);
  }
  const conf = Object.keys(g.conf).sort().map((k) => `${k}: ${g.conf[k]}\n`).join('');
  const tar = rootfsToTar(fs, m.clock.now(), [{ path: './etc/vzdump/pct.conf', data: Buffer.from(conf), mtime: m.clock.now() }]);
  const data = compressFor(archive, tar);
  task(`creating vzdump archive '${archive}'`);
  await part(0.4);
  task(`Total bytes written: ${tarTotals(tar.length, m.t.vzdump * 0.4)}`);
  await m.effects.writeNodeFile(ctx.node, archive, data);
  task(`archive file size: ${formatSize(data.length)}`);
  if (mode === 'snapshot') task("cleanup temporary 'vzdump' snapshot");
  if (mode === 'stop' && running) {
    task('restarting vm');
    const down = m.clock.now();
    await m.guests.start(ctx.node, g.vmid);
    task(`guest is online again after ${Math.max(1, Math.round(m.clock.now() - down))} seconds`);
  }
}
