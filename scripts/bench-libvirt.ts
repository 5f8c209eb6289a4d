// npm run bench:libvirt — how the koffi libvirt driver treats Node's event loop.
// Creates (define + start) and destroys (destroy + undefine) 3 node domains from the product templates,
// several rounds, and prints:
//   - the longest Node event-loop stall during those calls (goal: none over 50 ms), measured two ways:
//     perf_hooks.monitorEventLoopDelay and the largest gap between 1 ms timer ticks;
//   - lifecycle event latency: libvirt event thread → main thread (the worker hop), and call issued →
//     event seen on main (includes QEMU's own work);
//   - call durations (they run in worker threads, so they are not stalls).
// Target: a private libvirtd in a lab namespace with TCG domains (needs root + the test harness
// packages); otherwise test:///default (in-process, so the calls are near-instant; printed as such).
// Usage: npm run bench:libvirt [-- --rounds N] [-- --test-driver]  (--test-driver: skip the namespace)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { parseLabObject, resolveLab } from '../lab/config/load.js';
import { labNames } from '../lab/config/names.js';
import { openLibvirt } from '../lab/libvirt/client.js';
import type { LifecycleEvent } from '../lab/libvirt/driver.js';
import { labNetworkView, nodeDomainView } from '../lab/libvirt/lab-views.js';
import { renderDomainXml, renderNetworkXml } from '../lab/libvirt/render.js';
import { startLabNs, type LabNs } from '../test/helpers/labns.js';
import { run } from '../test/helpers/run.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 3;
const canUseNamespace = !process.argv.includes('--test-driver') && process.getuid?.() === 0 && (await run(['sh', '-c', 'command -v libvirtd && command -v qemu-system-x86_64 && command -v unshare'], { allowFail: true })).exitCode === 0;

const scratch = mkdtempSync(join(tmpdir(), 'pvelab-bench-libvirt-'));
let ns: LabNs | undefined;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** Largest gap between 1 ms timer ticks (how long Node's event loop could not run), until stop(). */
function gapProbe(): { stop(): number } {
  let last = performance.now();
  let max = 0;
  const t = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last - 1);
    last = now;
  }, 1);
  return { stop: () => (clearInterval(t), max) };
}

/**
 * The same probe in a separate, idle Node process: on a 2-core host running TCG guests, the OS alone
 * delays timers; this is the floor any process sees in the same window.
 */
async function controlProbe(): Promise<{ stop(): Promise<number> }> {
  const code = `let l=performance.now(),m=0;setInterval(()=>{const n=performance.now();m=Math.max(m,n-l-1);l=n},1);
process.stdin.on('end',()=>{process.stdout.write(String(m));process.exit(0)});process.stdin.resume();process.stdout.write('ready\\n');`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('close', () => resolve(Number(out.replace('ready\n', ''))));
        child.stdin.end();
      }),
  };
}

try {
  if (canUseNamespace) ns = await startLabNs({ label: 'bench-libvirt' });
  const uri = ns?.uri ?? 'test:///default';
  const lab = resolveLab(
    parseLabObject({
      name: 'bench',
      network: { cidr: ns ? (await ns.allocSubnet()).cidr : '10.96.0.0/24' },
      libvirt: { domainType: 'qemu', cpu: { model: 'qemu64' }, graphics: 'none' },
      storage: { layout: 'qcow2', dir: join(scratch, 'images') },
      nodeDefaults: { vcpus: 1, memoryMiB: 2048 },
    }),
    [],
  );
  const names = labNames(lab, join(scratch, 'home'));
  mkdirSync(names.imagesDir, { recursive: true });
  mkdirSync(join(names.stateDir, 'logs'), { recursive: true });
  if (ns) for (const n of names.nodes) for (const img of [n.rootImage, n.zfsImage]) await run(['qemu-img', 'create', '-q', '-f', 'qcow2', img, '16M']);

  // Handlebars compiles a template on its first render (cold JIT: ~0.2 s here), once per process, in
  // the define step; it is measured here and kept out of the create/destroy window below.
  const tCompile = performance.now();
  const domainXml = names.nodes.map((_n, i) => renderDomainXml(nodeDomainView(lab, names, i, { phase: 'run', answerIso: null })));
  const networkXml = renderNetworkXml(labNetworkView(lab, names, 'nat'));
  const compileMs = performance.now() - tCompile;

  const openGap = gapProbe();
  const tOpen = performance.now();
  const lv = await openLibvirt(uri);
  const openMs = performance.now() - tOpen;
  const openStall = openGap.stop();
  const v = await lv.version();
  await lv.defineNetwork(networkXml);
  await lv.startNetwork(names.network.name);

  const hop: number[] = [];
  const toEvent: number[] = [];
  const calls: Record<string, number[]> = { 'define+start': [], 'destroy+undefine': [] };
  const events: LifecycleEvent[] = [];
  lv.onLifecycle((e) => {
    events.push(e);
    hop.push(e.receivedAt - e.at);
  });

  // Stall probes: the loop-delay histogram and the largest gap between 1 ms ticks.
  const h = monitorEventLoopDelay({ resolution: 1 });
  const control = await controlProbe();
  let gcMax = 0;
  const gcObs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMax = Math.max(gcMax, e.duration);
  });
  gcObs.observe({ entryTypes: ['gc'] });
  const elu0 = performance.eventLoopUtilization();
  const gaps = gapProbe();
  h.enable();

  const wall = () => performance.timeOrigin + performance.now();
  const awaitEvent = (domain: string, type: string, since: number) =>
    lv.waitForEvent((e) => e.domain === domain && e.type === type, { timeoutMs: 60_000 }).then((e) => toEvent.push(e.receivedAt - since));

  for (let r = 0; r < rounds; r++) {
    await Promise.all(
      names.nodes.map(async (n, i) => {
        const t0 = performance.now();
        await lv.defineDomain(domainXml[i]!);
        const started = awaitEvent(n.domain, 'started', wall());
        await lv.start(n.domain);
        calls['define+start']!.push(performance.now() - t0);
        await started;
      }),
    );
    await Promise.all(
      names.nodes.map(async (n) => {
        const t0 = performance.now();
        const stopped = awaitEvent(n.domain, 'stopped', wall());
        await lv.destroy(n.domain);
        await stopped;
        await lv.undefine(n.domain);
        calls['destroy+undefine']!.push(performance.now() - t0);
      }),
    );
  }

  h.disable();
  const maxGap = gaps.stop();
  const elu = performance.eventLoopUtilization(elu0);
  gcObs.disconnect();
  const controlGap = await control.stop();
  await lv.stopNetwork(names.network.name);
  await lv.undefineNetwork(names.network.name);
  await lv.close();

  const stall = Math.max(h.max / 1e6, maxGap);
  const out = [
    `libvirt ${v.libvirt} (${v.type}${v.hypervisor ? ` ${v.hypervisor}` : ''}) at ${ns ? 'a private qemu:///system in a lab namespace (TCG)' : 'test:///default (in-process; calls are near-instant)'}`,
    `${rounds} rounds × 3 domains, created and destroyed concurrently; ${events.length} lifecycle events`,
    `driver open: ${ms(openMs)} (longest stall meanwhile ${ms(openStall)}); first template render (compile, once per process): ${ms(compileMs)}`,
    '',
    `longest event-loop stall:        ${ms(stall)}  (histogram max ${ms(h.max / 1e6)}, largest 1 ms-tick gap ${ms(maxGap)}; goal ≤ 50 ms: ${stall <= 50 ? 'met' : 'NOT met'})`,
    `same window, an idle Node process: ${ms(controlGap)}  (what CPU contention alone causes on this host)`,
    `main thread busy ${(elu.utilization * 100).toFixed(1)} % of the window (${ms(elu.active)} of ${ms(elu.active + elu.idle)}); longest GC pause ${ms(gcMax)}`,
    `event delivery, thread → main:   p50 ${ms(pct(hop, 50))}  p95 ${ms(pct(hop, 95))}  max ${ms(Math.max(...hop))}`,
    `call issued → event on main:     p50 ${ms(pct(toEvent, 50))}  p95 ${ms(pct(toEvent, 95))}  max ${ms(Math.max(...toEvent))}`,
    ...Object.entries(calls).map(([k, xs]) => `${`${k} (worker thread):`.padEnd(33)}p50 ${ms(pct(xs, 50))}  max ${ms(Math.max(...xs))}`),
  ];
  process.stdout.write(out.join('\n') + '\n');
} finally {
  await ns?.down();
  rmSync(scratch, { recursive: true, force: true });
}
