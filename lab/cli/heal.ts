// pvelab heal [--all]: undoes faults that `pvelab failover` injected and could not heal (it crashed, was
// killed with kill -9, or a second Ctrl-C forced it out): every entry of the lab's pending-fault record
// is healed and removed. Then every node (and the shared LUN) is checked for a fault in effect that no
// record names — a node left paused, powered off or with its link down by hand; those are listed, and
// healed with --all. Safe to run any time: healing is idempotent.
import type { Command } from 'commander';
import { LabError } from '../core/errors.js';
import { faultTarget, FAULT_KINDS, makeFault, type Fault, type FaultKind } from '../failover/faults.js';
import { healPending, PendingFaults } from '../failover/pending.js';
import type { AppContext } from './app.js';
import { openServices } from './services.js';

interface Found {
  fault: FaultKind;
  node: string;
  healed: boolean;
}

export function register(program: Command, app: AppContext): void {
  program
    .command('heal')
    .description('heal faults a failover run left behind (crash, kill -9); --all also heals any fault found on the nodes')
    .option('--all', 'also heal faults in effect that pvelab did not record (link down, paused, powered off, LUN offline)')
    .action(async (opts: { all?: boolean }) => {
      await healCommand(opts, app);
    });
}

export async function healCommand(opts: { all?: boolean }, app: AppContext): Promise<{ healed: Found[]; found: Found[] }> {
  const loaded = await app.loadLab();
  const { names, state } = loaded;
  const release = await state.lock('pvelab heal');
  const services = await openServices(app, loaded, { sshConnectAttempts: 1 });
  try {
    const cache = new Map<FaultKind, Fault>();
    const faults = (k: FaultKind) => {
      let f = cache.get(k);
      if (!f) cache.set(k, (f = makeFault(k, names, { libvirt: k === 'storage-loss' ? undefined : services.value.libvirt, tgt: services.value.tgt })));
      return f;
    };
    const pending = await healPending(new PendingFaults(state.dir), faults, (l) => app.log.info(l));
    const healed: Found[] = pending.healed.map((e) => ({ fault: e.fault, node: e.node, healed: true }));
    // Faults in effect that no record names. A part that cannot be read (no libvirt, no tgtd) is skipped.
    const found: Found[] = [];
    for (const kind of FAULT_KINDS) {
      const targets = kind === 'storage-loss' ? names.nodes.slice(0, 1) : names.nodes;
      for (const n of targets) {
        const t = faultTarget(n);
        let active: boolean;
        try {
          active = await faults(kind).isActive(t);
        } catch (err) {
          app.log.v(1, `cannot check ${kind}${kind === 'storage-loss' ? '' : ` on ${n.name}`}: ${err instanceof Error ? err.message : String(err)}`);
          continue;
        }
        if (!active) continue;
        const f: Found = { fault: kind, node: kind === 'storage-loss' ? 'shared LUN' : n.name, healed: false };
        if (opts.all) {
          await faults(kind).heal(t);
          f.healed = true;
        }
        found.push(f);
      }
    }
    for (const f of pending.failed) app.log.error(`✗ could not heal ${f.entry.fault} on ${f.entry.node}: ${f.error}`);
    for (const f of found) app.log.info(f.healed ? `healed ${f.fault} on ${f.node} (not recorded by pvelab)` : `found ${f.fault} on ${f.node}, not recorded by pvelab; \`pvelab heal --all\` heals it`);
    if (app.options().json) app.print(JSON.stringify({ healed, found, failed: pending.failed.map((f) => ({ fault: f.entry.fault, node: f.entry.node, error: f.error })) }, null, 2));
    else if (healed.length === 0 && found.length === 0 && pending.failed.length === 0) app.log.info('nothing to heal');
    else if (healed.length) app.log.info(`✓ healed ${healed.map((h) => `${h.fault} on ${h.node}`).join(', ')}`);
    if (pending.failed.length) throw new LabError(`${pending.failed.length} fault(s) could not be healed`, { hint: 'they stay recorded; fix the cause and run `pvelab heal` again' });
    return { healed, found };
  } finally {
    await services.close();
    await release();
  }
}
