// pvelab status [--json]: the lab at a glance, fast; parts that do not answer in time are "unknown".
import type { Command } from 'commander';
import type { AppContext } from './app.js';
import { collectStatus } from '../status/collect.js';
import { renderStatus } from '../status/render.js';
import { openServices } from './services.js';

export function register(program: Command, app: AppContext): void {
  program
    .command('status')
    .description('show the lab: node VMs, network, iSCSI target, LVM, cluster quorum, storages, HA and the guest\'s HTTP answer')
    .option('--deadline <ms>', 'how long to wait for each part before calling it unknown', '250')
    .action(async (opts: { deadline: string }) => {
      const loaded = await app.loadLab();
      const services = await openServices(app, loaded, { sshConnectAttempts: 1 });
      try {
        const s = await collectStatus(loaded.lab, loaded.names, services.value, { deadlineMs: Math.max(50, Number(opts.deadline) || 250) });
        app.print(app.options().json ? JSON.stringify(s, null, 2) : renderStatus(s));
      } finally {
        await services.close();
      }
    });
}
