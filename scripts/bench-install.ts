// npm run bench:install — the install phase (pvelab's nodes.install step: installers until power-off,
// switch to boot from disk, SSH with the lab key, host key pinned) for 1 node vs 3 nodes in parallel,
// with the Proxmox stand-in ISO under TCG in a private lab namespace (its own libvirtd). Goal: 3 nodes
// take ≤ 1.3 × the time of 1 node. Prints figures only; asserts nothing.
//   npx tsx scripts/bench-install.ts [--runs N] [--release 9.2]
// How: the outer process starts the namespace and, for each size, runs this file again INSIDE it
// (`--inner`), which builds the lab with pvelab's own steps (keys, ISO prepare, answers, network,
// qcow2 disks, domains), then times installStep().apply(), prints one JSON line and removes its VMs.
// A lab file needs ≥ 3 nodes, so the 1-node lab is the 3-node lab with its node list cut to one.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};

interface InnerResult { nodes: number; setupS: number; installS: number }

async function inner(): Promise<void> {
  const { parseLabObject, resolveLab } = await import('../lab/config/load.js');
  const { labNames } = await import('../lab/config/names.js');
  const { createLogger } = await import('../lab/core/log.js');
  const { runUp } = await import('../lab/core/pipeline.js');
  const { LabState } = await import('../lab/core/state.js');
  const { LocalRunner } = await import('../lab/exec/local.js');
  const { openLibvirt } = await import('../lab/libvirt/client.js');
  const { removeDomain } = await import('../lab/libvirt/owned.js');
  const { answerMediaStep, passwordHashStep } = await import('../lab/steps/answer.js');
  const { domainsStep } = await import('../lab/steps/domains.js');
  const { installStep } = await import('../lab/steps/install.js');
  const { isoFetchStep, isoPrepareStep } = await import('../lab/steps/iso.js');
  const { keysStep } = await import('../lab/steps/keys.js');
  const { networkStep } = await import('../lab/steps/network.js');
  const { rootImagesStep, zfsImagesStep } = await import('../lab/steps/storage-files.js');
  const { storageServices } = await import('../lab/storage/services.js');
  type StepContext = import('../lab/core/step.js').StepContext;

  const n = Number(arg('nodes', '1'));
  const dir = arg('dir', '');
  const spec = resolveLab(parseLabObject({
    name: arg('name', `bench${n}`), pve: { iso: arg('iso', '') }, network: { cidr: arg('cidr', '') },
    libvirt: { uri: 'qemu:///system', domainType: 'qemu', cpu: { model: 'qemu64' }, graphics: 'none' },
    storage: { layout: 'qcow2', dir: join(dir, 'images') }, nodeDefaults: { vcpus: 1, memoryMiB: 2048, rootGiB: 16, zfsGiB: 4 },
  }), []);
  const lab = { ...spec, nodes: spec.nodes.slice(0, n) };
  const names = labNames(lab, join(dir, 'home'));
  const host = new LocalRunner();
  const lv = await openLibvirt('qemu:///system');
  const log = createLogger({ verbosity: 0 });
  const ctx = (progress: (t: string) => void = () => {}): StepContext => ({
    lab, names, log, host, state: new LabState(names.stateDir, lab.name), signal: new AbortController().signal,
    services: { libvirt: lv, ...storageServices(host, { confDir: join(dir, 'tgt') }) }, progress, dryRun: false,
  });
  try {
    let t = performance.now();
    await runUp([keysStep, isoFetchStep, isoPrepareStep, passwordHashStep, answerMediaStep, networkStep, rootImagesStep, zfsImagesStep, domainsStep()], () => ctx());
    const setupS = (performance.now() - t) / 1000;
    t = performance.now();
    const t0 = t;
    // stand-in diagnostic: when each node printed STANDIN-NODE-READY on its serial console
    const seen = new Map<string, number>();
    const { readFileSync } = await import('node:fs');
    const poll = setInterval(() => {
      for (const nd of names.nodes) {
        if (seen.has(nd.name)) continue;
        const text = (() => { try { return readFileSync(nd.serialLog, 'utf8'); } catch { return ''; } })();
        if (text.includes('STANDIN-NODE-READY')) { seen.set(nd.name, (performance.now() - t0) / 1000); process.stderr.write(`  [${n}] +${seen.get(nd.name)!.toFixed(1)} s ${nd.name} printed STANDIN-NODE-READY\n`); }
      }
    }, 200);
    poll.unref();
    await installStep({ tickMs: 0 })
      .apply(ctx((l) => process.stderr.write(`  [${n}] +${((performance.now() - t0) / 1000).toFixed(1)} s ${l}\n`)))
      .finally(() => clearInterval(poll));
    const result: InnerResult = { nodes: n, setupS, installS: (performance.now() - t) / 1000 };
    console.log(JSON.stringify(result));
  } finally {
    for (const node of names.nodes) await removeDomain(lv, lab.name, node.domain).catch(() => undefined);
    await networkStep.undo?.(ctx()).catch(() => undefined);
    await lv.close();
  }
}

async function outer(): Promise<void> {
  const { startLabNs } = await import('../test/helpers/labns.js');
  const { buildStandin, missingPrereq } = await import('../test/standin/harness.js');
  const missing = missingPrereq();
  if (missing) throw new Error(`bench-install needs ${missing}`);
  const runs = Number(arg('runs', '1'));
  const iso = await buildStandin(arg('release', '9.2'));
  const self = fileURLToPath(import.meta.url);
  const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
  const scratch = mkdtempSync(join(tmpdir(), 'pvelab-bench-install-'));
  const ns = await startLabNs({ libvirt: true, tgtd: false, label: 'bench-install' });
  const times: Record<number, number[]> = { 1: [], 3: [] };
  try {
    for (let r = 0; r < runs; r++) {
      for (const n of [1, 3]) {
        const dir = join(scratch, `run${r}-n${n}`);
        for (const d of ['images', 'home', 'tgt', 'iso']) mkdirSync(join(dir, d), { recursive: true });
        const net = await ns.allocSubnet();
        process.stderr.write(`run ${r + 1}/${runs}: ${n} node(s) on ${net.cidr}; load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
        const child = ns.spawn(['node', tsx, self, '--inner', '--nodes', String(n), '--name', `b${r}n${n}`, '--dir', dir, '--iso', iso, '--cidr', net.cidr], {
          env: { ...process.env, PVELAB_ISO_DIR: join(dir, 'iso') }, stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr?.pipe(process.stderr); // progress lines as they come
        const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
        if (code !== 0) throw new Error(`inner run (${n} nodes) failed with exit ${code}`);
        const res = JSON.parse(stdout.trim().split('\n').pop()!) as InnerResult;
        times[n]!.push(res.installS);
        console.log(`${n} node(s): install phase ${res.installS.toFixed(1)} s (setup before it ${res.setupS.toFixed(1)} s)`);
      }
    }
  } finally {
    await ns.down();
    rmSync(scratch, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const one = median(times[1]!);
  const three = median(times[3]!);
  const ratio = three / one;
  console.log(`install phase, median of ${runs}: 1 node ${one.toFixed(1)} s, 3 nodes ${three.toFixed(1)} s → ${ratio.toFixed(2)}× (goal ≤ 1.3×: ${ratio <= 1.3 ? 'met' : 'NOT met'})`);
}

if (process.argv.includes('--inner')) {
  await inner();
  // SSH sockets to VMs removed a moment ago linger in FIN_WAIT (the peer is gone): do not wait for them.
  process.exit(0);
} else await outer();
