// pveam (pve-manager CLI/pveam.pm, APLInfo.pm, API2/Nodes.pm apl_download): update, available,
// download, list. The index and the template files come from the stand-in's local cache (the lab
// may have no internet): `update` succeeds when the model is online, `download` writes a catalogued
// template (a tar.zst of the template's modelled rootfs, model/rootfs.ts) into the node's `local`
// storage on the node's disk. Until `pveam update` ran on a node its index is empty ("no such template").
import { die, paramError } from '../model/perl.js';
import { templateArchive } from '../model/rootfs.js';
import { parseArgs } from './args.js';
import { abort } from './handle.js';
import type { Ctx } from './io.js';
import { syncWorker } from './worker.js';

/** the stand-in's template cache (names as published on download.proxmox.com; modelled catalogue) */
export const CATALOG: Array<[string, string]> = [
  ['system', 'alpine-3.22-default_20250617_amd64.tar.xz'],
  ['system', 'debian-12-standard_12.7-1_amd64.tar.zst'],
  ['system', 'debian-13-standard_13.1-2_amd64.tar.zst'],
  ['system', 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst'],
  ['turnkeylinux', 'debian-12-turnkey-lamp_18.1-1_amd64.tar.gz'],
];

const COMMANDS = ['available  [OPTIONS]', 'download <storage> <template>', 'list <storage>', 'remove <template_path>', 'update'];

export async function pveam(ctx: Ctx, args: string[]): Promise<number> {
  const m = ctx.m;
  const [cmd, ...rest] = args;
  const updated = () => m.local.aplUpdated.has(ctx.node);
  switch (cmd) {
    case 'update':
      parseArgs({ cmd: 'pveam update', props: {} }, rest);
      // CLI/pveam.pm: a failed download is reported on stderr, the command still exits 0
      if (!m.internet || !m.node(ctx.node).linked) {
        ctx.err('update failed - see /var/log/pveam.log for details\n');
        return 0;
      }
      m.local.aplUpdated.add(ctx.node);
      ctx.out('update successful\n');
      return 0;
    case 'available': {
      const { params } = parseArgs({ cmd: 'pveam available', props: { section: { optional: true, enum: ['system', 'mail', 'turnkeylinux'] } } }, rest);
      if (!updated()) return 0;
      for (const [s, t] of [...CATALOG].sort((a, b) => (a[0] + a[1] < b[0] + b[1] ? -1 : 1))) {
        if (!params.section || params.section === s) ctx.out(`${s.padEnd(15)} ${t}\n`);
      }
      return 0;
    }
    case 'download': {
      const spec = { cmd: 'pveam download', args: ['storage', 'template'], props: { storage: {}, template: { maxLength: 255 } } };
      const { params } = parseArgs(spec, rest);
      if (!updated() || !CATALOG.some(([, t]) => t === params.template)) throw paramError({ template: 'no such template' }, 'pveam download <storage> <template>');
      const s = m.view(ctx.node).db.storage.get(params.storage!);
      if (!s) throw die(`storage '${params.storage}' does not exist`);
      if (!(s.opts.content ?? '').split(',').includes('vztmpl') || s.type !== 'dir') throw die(`storage '${params.storage}' does not support templates`);
      const section = CATALOG.find(([, t]) => t === params.template)![0];
      const url = `http://download.proxmox.com/images/${section}/${params.template}`;
      const dest = `${s.opts.path}/template/cache/${params.template}`;
      await syncWorker(ctx, 'download', params.template!, async (w) => {
        w.print(`downloading ${url} to ${dest}\n`);
        if (!m.node(ctx.node).linked) throw die(`download failed: 500 Can't connect to download.proxmox.com:80 (Network is unreachable)`);
        if (!m.internet) throw die(`download failed: 500 Can't connect to download.proxmox.com:80 (Temporary failure in name resolution)`);
        await m.clock.sleep(m.t.joinStep);
        w.print('calculating checksum...OK, checksum verified\n');
        await m.effects.writeNodeFile(ctx.node, `${s.opts.path}/template/cache/${params.template}`, templateArchive(params.template!, m.clock.now()));
        w.print(`download of '${url}' to '${dest}' finished\n`);
      });
      return 0;
    }
    case 'list': {
      const { params } = parseArgs({ cmd: 'pveam list', args: ['storage'], props: { storage: {} } }, rest);
      const s = m.view(ctx.node).db.storage.get(params.storage!);
      if (!s) throw die(`storage '${params.storage}' does not exist`);
      if (!(s.opts.content ?? '').split(',').includes('vztmpl')) throw die('Storage does not support templates!');
      ctx.out(`${'NAME'.padEnd(60)} ${'SIZE'.padEnd(6)}\n`);
      if (s.type === 'dir') for (const [t, size] of [...(await m.refreshTemplates(ctx.node))].sort()) ctx.out(`${`${params.storage}:vztmpl/${t}`.padEnd(60)} ${(size / 2 ** 20).toFixed(2)}MB\n`);
      return 0;
    }
    case undefined:
      return abort(ctx, 'pveam', 'no command specified', COMMANDS);
    default:
      return abort(ctx, 'pveam', `unknown command 'pveam ${cmd}'`, COMMANDS);
  }
}
