// npm run bench:standin — how long the Proxmox stand-in (test/standin) takes on this machine, for one
// node and for three at once (TCG, plain qemu-system-x86_64 in a private lab namespace):
//   boot-to-installer   QEMU start -> installer PID 1 running (includes GRUB's 10 s automated-entry timeout)
//   install             installer start -> VM powered off (reboot-mode = "power-off", partition mode)
//   boot-to-SSH         installed node: QEMU start (disk first) -> first successful `ssh root@ip true`
// Prints figures only (no assertions). Usage: npm run bench:standin [-- --release 9.2] [-- --nodes 1,3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLabNs } from '../test/helpers/labns.js';
import { sleep } from '../test/helpers/run.js';
import { answer, answerMedia, buildStandin, makeKey, missingPrereq, nsBridge, prepareIso, qcow2, sshNode, startVm } from '../test/standin/harness.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const release = arg('release', '9.2');
const sizes = arg('nodes', '1,3').split(',').map(Number);

interface Times { boot: number; install: number; ssh: number }

async function scenario(n: number, stock: string): Promise<Times[]> {
  const dir = mkdtempSync(join(tmpdir(), `standin-bench-${n}-`));
  const ns = await startLabNs({ libvirt: false, label: `standin-bench${n}` });
  try {
    await nsBridge(ns);
    const key = join(dir, 'key');
    const pub = await makeKey(key);
    const iso = join(dir, 'part.iso');
    await prepareIso(stock, iso, 'partition');
    const nodes = Array.from({ length: n }, (_, i) => ({
      name: `b${i + 1}`, ip: `10.99.0.${11 + i}`, mac: `52:54:00:be:00:${(11 + i).toString(16).padStart(2, '0')}`,
      disk: join(dir, `b${i + 1}.qcow2`), ais: join(dir, `b${i + 1}-ais.iso`),
    }));
    for (const v of nodes) {
      await qcow2(v.disk);
      await answerMedia(v.ais, answer({ fqdn: `${v.name}.lab.example`, ip: v.ip, mac: v.mac, sshKey: pub, rebootMode: 'power-off' }));
    }
    return await Promise.all(nodes.map(async (v) => {
      const t0 = Date.now();
      const inst = await startVm(ns, { name: v.name, dir, mac: v.mac, disks: [v.disk], cdroms: [iso, v.ais], cdFirst: true, noReboot: true });
      await inst.waitSerial(/STANDIN-INSTALLER/, 600_000);
      const t1 = Date.now();
      await inst.waitSerial(/INFO: Installation done\./, 600_000);
      const code = await Promise.race([inst.exited, sleep(120_000).then(() => 'timeout')]);
      if (code !== 0) throw new Error(`${v.name}: installer did not power off (${String(code)})`);
      const t2 = Date.now();
      const node = await startVm(ns, { name: `${v.name}n`, dir, mac: v.mac, disks: [v.disk], cdroms: [iso] });
      const t3 = Date.now();
      for (;;) {
        if ((await sshNode(ns, key, v.ip, 'true', 15_000)).exitCode === 0) break;
        if (Date.now() - t3 > 600_000) throw new Error(`${v.name}: no SSH`);
        await sleep(500);
      }
      const t4 = Date.now();
      await node.stop();
      return { boot: t1 - t0, install: t2 - t1, ssh: t4 - t3 };
    }));
  } finally {
    await ns.down();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (ms: number[]) => {
  const s = ms.map((m) => m / 1000);
  const avg = s.reduce((a, b) => a + b, 0) / s.length;
  return s.length === 1 ? `${avg.toFixed(1)} s` : `avg ${avg.toFixed(1)} s (min ${Math.min(...s).toFixed(1)}, max ${Math.max(...s).toFixed(1)})`;
};

async function main(): Promise<void> {
  const missing = missingPrereq();
  if (missing) {
    console.error(`bench:standin needs ${missing}`);
    process.exit(2);
  }
  const tb = Date.now();
  const stock = await buildStandin(release);
  console.log(`stand-in ISO ${release}: ${stock} (build or cache: ${((Date.now() - tb) / 1000).toFixed(1)} s)`);
  for (const n of sizes) {
    const t = Date.now();
    const r = await scenario(n, stock);
    console.log(`\n${n} node${n > 1 ? 's at once' : ''} (wall ${((Date.now() - t) / 1000).toFixed(1)} s):`);
    console.log(`  boot-to-installer    ${fmt(r.map((x) => x.boot))}`);
    console.log(`  install              ${fmt(r.map((x) => x.install))}`);
    console.log(`  installed boot->SSH  ${fmt(r.map((x) => x.ssh))}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
