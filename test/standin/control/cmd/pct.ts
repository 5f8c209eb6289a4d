// pct (pve-container CLI/pct.pm): create, start, stop, shutdown, status, list, exec, config,
// destroy. create/start/stop/destroy run in sync workers and exit through $upid_exit (255 when the
// task failed). HA-managed CTs: start/stop only request the state from the HA stack
// ("Requesting HA start for CT <id>", API2/LXC/Status.pm). Errors are the upstream die texts.
// The CT's files and packages live on its rootfs volume (model/rootfs.ts): create unpacks the
// ostemplate onto it, exec reads and changes it (pct-guest.ts), destroy drops it.
import { allocRootfs, checkRootfs, macFor, parseNet, printNet, readArchive } from '../model/ct-create.js';
import { parseOsRelease } from '../model/debian.js';
import { dropVolumeData } from '../model/rootfs.js';
import { die } from '../model/perl.js';
import { type CmdSpec, type Prop, parseArgs } from './args.js';
import { abort } from './handle.js';
import type { Ctx } from './io.js';
import { pctExec, setupRootfs, storeRootfs, unpackArchive } from './pct-guest.js';
import { syncWorker } from './worker.js';

const VMID: Prop = { type: 'integer', min: 100, max: 999999999 };
const COMMANDS = ['config <vmid> [OPTIONS]', 'create <vmid> <ostemplate> [OPTIONS]', 'destroy <vmid> [OPTIONS]', 'exec <vmid> [<extra-args>] [OPTIONS]', 'list', 'shutdown <vmid> [OPTIONS]', 'start <vmid> [OPTIONS]', 'status <vmid> [OPTIONS]', 'stop <vmid> [OPTIONS]'];
export const CREATE: CmdSpec = {
  cmd: 'pct create', args: ['vmid', 'ostemplate'],
  props: {
    vmid: VMID, ostemplate: {}, hostname: { optional: true }, memory: { type: 'integer', optional: true, min: 16 }, swap: { type: 'integer', optional: true, min: 0 },
    cores: { type: 'integer', optional: true, min: 1, max: 8192 }, rootfs: { optional: true }, storage: { optional: true }, nameserver: { optional: true },
    searchdomain: { optional: true }, password: { optional: true }, 'ssh-public-keys': { optional: true }, unprivileged: { type: 'boolean', optional: true },
    features: { optional: true }, start: { type: 'boolean', optional: true }, onboot: { type: 'boolean', optional: true }, description: { optional: true },
    ostype: { optional: true }, arch: { optional: true }, tags: { optional: true }, pool: { optional: true }, force: { type: 'boolean', optional: true },
  },
  dynamic: [[/^net\d+$/, { optional: true }], [/^mp\d+$/, { optional: true }]],
};

function confPath(node: string, vmid: number): string {
  return `nodes/${node}/lxc/${vmid}.conf`;
}

export async function pct(ctx: Ctx, args: string[]): Promise<number> {
  const m = ctx.m;
  const [cmd, ...rest] = args;
  const db = () => m.view(ctx.node).db;
  const load = (vmid: number) => {
    const g = db().guests.get(vmid);
    if (!g || g.node !== ctx.node) throw die(`Configuration file '${confPath(ctx.node, vmid)}' does not exist`);
    return g;
  };
  const quorum = () => {
    if (!m.view(ctx.node).writable) throw die('cluster not ready - no quorum?');
  };
  const done = (failed: boolean) => (failed ? 255 : 0);
  switch (cmd) {
    case 'create': {
      const { params } = parseArgs(CREATE, rest);
      quorum();
      const vmid = Number(params.vmid);
      const other = db().guests.get(vmid);
      if (other) throw die(`${other.type === 'qemu' ? 'VM' : 'CT'} ${vmid} already exists on node '${other.node}'`);
      const [storeid, size] = checkRootfs(m, ctx.node, params.rootfs ?? `${params.storage ?? 'local'}:4`, params.storage);
      const r = await syncWorker(ctx, 'vzcreate', String(vmid), async (w) => {
        try {
          const archive = await readArchive(m, ctx.node, params.ostemplate!);
          const { volid, out } = allocRootfs(m, ctx.node, vmid, storeid, size);
          w.print(out);
          const fs = unpackArchive(vmid, archive.path, archive.data, w);
          const hostname = params.hostname ?? `CT${vmid}`;
          setupRootfs(fs, hostname);
          storeRootfs(m, ctx.node, volid, fs);
          const conf: Record<string, string> = { arch: 'amd64', hostname, memory: params.memory ?? '512', swap: params.swap ?? '512', rootfs: `${volid},size=${size}G`, ostype: parseOsRelease(fs.files.get('/etc/os-release')).id || 'unmanaged' };
          for (const k of ['cores', 'nameserver', 'searchdomain', 'features', 'onboot', 'description', 'tags']) if (params[k] !== undefined) conf[k] = params[k]!;
          conf.unprivileged = params.unprivileged ?? '1';
          for (const [k, v] of Object.entries(params)) {
            if (!/^net\d+$/.test(k)) continue;
            const net = parseNet(v);
            net.hwaddr ??= macFor(ctx.node, vmid, k, m.clock.now());
            net.type ??= 'veth';
            conf[k] = printNet(net);
          }
          if (!m.view(ctx.node).writable) throw die(`unable to open file '/etc/pve/${confPath(ctx.node, vmid)}.tmp.${process.pid}' - Permission denied`);
          db().guests.set(vmid, { vmid, node: ctx.node, type: 'lxc', conf });
          if (params['ssh-public-keys'] !== undefined || params.password !== undefined) w.print(`Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...\ndone: SHA256:${Buffer.from(String(vmid)).toString('base64')} root@${conf.hostname}\n`);
        } catch (e) {
          throw die(`unable to create CT ${vmid} - ${(e as Error).message}`);
        }
        if (params.start === '1') await m.guests.start(ctx.node, vmid);
      });
      return done(r.failed);
    }
    case 'start':
    case 'stop':
    case 'shutdown': {
      const { params } = parseArgs({ cmd: `pct ${cmd}`, args: ['vmid'], props: { vmid: VMID, skiplock: { type: 'boolean', optional: true }, timeout: { type: 'integer', optional: true, min: 0 }, forceStop: { type: 'boolean', optional: true }, debug: { type: 'boolean', optional: true }, 'overrule-shutdown': { type: 'boolean', optional: true } } }, rest);
      const vmid = Number(params.vmid);
      const running = m.guests.isRunning(ctx.node, vmid);
      if (cmd === 'start' && running) throw die(`CT ${vmid} already running`);
      if (cmd !== 'start' && !running) {
        load(vmid);
        throw die(`CT ${vmid} not running`);
      }
      quorum();
      const sid = `ct:${vmid}`;
      if (db().haResources.has(sid)) {
        const r = await syncWorker(ctx, cmd === 'start' ? 'hastart' : 'hastop', String(vmid), async (w) => {
          w.print(`Requesting HA ${cmd === 'start' ? 'start' : 'stop'} for CT ${vmid}\n`);
          if (cmd === 'start') db().haResources.get(sid)!.opts.state = 'started';
          else db().crmCommands.push(`stop ${sid} ${cmd === 'stop' ? 0 : params.timeout ?? 60}`);
        });
        return done(r.failed);
      }
      load(vmid);
      const r = await syncWorker(ctx, cmd === 'start' ? 'vzstart' : cmd === 'stop' ? 'vzstop' : 'vzshutdown', String(vmid), async () => {
        if (cmd === 'start') {
          await m.guests.start(ctx.node, vmid);
          if (!m.guests.isRunning(ctx.node, vmid)) throw die(`startup for container '${vmid}' failed`);
        } else await m.guests.stop(ctx.node, vmid);
      });
      return done(r.failed);
    }
    case 'status': {
      const { params } = parseArgs({ cmd: 'pct status', args: ['vmid'], props: { vmid: VMID, verbose: { type: 'boolean', optional: true } } }, rest);
      const vmid = Number(params.vmid);
      load(vmid);
      ctx.out(`status: ${m.guests.isRunning(ctx.node, vmid) ? 'running' : 'stopped'}\n`);
      return 0;
    }
    case 'list': {
      parseArgs({ cmd: 'pct list', props: {} }, rest);
      const list = [...db().guests.values()].filter((g) => g.node === ctx.node && g.type === 'lxc').sort((a, b) => a.vmid - b.vmid);
      if (!list.length) return 0;
      const f = (a: string, b: string, c: string, d: string) => `${a.padEnd(10)} ${b.padEnd(10)} ${c.padEnd(12)} ${d.padEnd(20)}\n`;
      ctx.out(f('VMID', 'Status', 'Lock', 'Name'));
      for (const g of list) ctx.out(f(String(g.vmid), m.guests.isRunning(ctx.node, g.vmid) ? 'running' : 'stopped', '', g.conf.hostname ?? ''));
      return 0;
    }
    case 'config': {
      const { params } = parseArgs({ cmd: 'pct config', args: ['vmid'], props: { vmid: VMID, current: { type: 'boolean', optional: true }, snapshot: { optional: true } } }, rest);
      const g = load(Number(params.vmid));
      for (const k of Object.keys(g.conf).sort()) ctx.out(`${k}: ${g.conf[k]}\n`);
      return 0;
    }
    case 'exec': {
      const { params, extra } = parseArgs({ cmd: 'pct exec', args: ['vmid', 'extra-args'], props: { vmid: VMID, 'keep-env': { type: 'boolean', optional: true } } }, rest);
      const vmid = Number(params.vmid);
      const g = load(vmid);
      if (!m.guests.isRunning(ctx.node, vmid)) throw die(`container '${vmid}' not running!`);
      if (!extra.length) throw die('missing command');
      // stdin is read only by commands that read it (tee, cat, apt-get's prompt), as lxc-attach passes it on
      return pctExec(ctx, g, extra);
    }
    case 'destroy': {
      const { params } = parseArgs({ cmd: 'pct destroy', args: ['vmid'], props: { vmid: VMID, purge: { type: 'boolean', optional: true }, force: { type: 'boolean', optional: true }, 'destroy-unreferenced-disks': { type: 'boolean', optional: true } } }, rest);
      const vmid = Number(params.vmid);
      load(vmid);
      quorum();
      if (m.guests.isRunning(ctx.node, vmid)) throw die(`CT ${vmid} is running - destroy failed`);
      if (db().haResources.has(`ct:${vmid}`) && params.purge !== '1') throw die(`unable to remove CT ${vmid} - used in HA resources and purge parameter not set.`);
      const r = await syncWorker(ctx, 'vzdestroy', String(vmid), async () => {
        const vol = db().guests.get(vmid)?.conf.rootfs?.split(',')[0];
        if (vol) dropVolumeData(m, vol);
        db().guests.delete(vmid);
        db().haResources.delete(`ct:${vmid}`);
      });
      return done(r.failed);
    }
    case undefined:
      return abort(ctx, 'pct', 'no command specified', COMMANDS);
    default:
      return abort(ctx, 'pct', `unknown command 'pct ${cmd}'`, COMMANDS);
  }
}
