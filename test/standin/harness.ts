// Test/bench helpers for the Proxmox stand-in (README.md): build the ISO, prepare it the way
// proxmox-auto-install-assistant does (test-harness.md §6), make PROXMOX-AIS answer media, and run
// TCG VMs inside a private namespace (test/helpers/labns.ts) on bridge br0 = 10.99.0.1/24.
// Contract: VMs are children of the namespace, so ns.down() kills them; vm.stop() is the polite path.
// All traffic stays inside that namespace (the bridge has no uplink).
import { createConnection } from 'node:net';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { LabNs } from '../helpers/labns.js';
import { run, sleep } from '../helpers/run.js';

export const STANDIN_DIR = fileURLToPath(new URL('.', import.meta.url));
export const REPO = join(STANDIN_DIR, '..', '..');
export const BRIDGE_GW = '10.99.0.1';
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

/** Tools the stand-in tests need; returns the first missing one (for a named skip) or undefined. */
export function missingPrereq(): string | undefined {
  const need = ['/bin/busybox', '/usr/bin/qemu-system-x86_64', '/usr/bin/xorriso', '/usr/bin/grub-mkrescue', '/usr/sbin/dropbear', OVMF_CODE, '/usr/bin/ssh'];
  return need.find((p) => !existsSync(p));
}

/** Builds (or takes from the cache) pve-standin-<release>.iso; returns a path the caller may not modify. */
export async function buildStandin(release: string, overlay?: string): Promise<string> {
  const out = join(REPO, '.cache', 'standin', 'out', release + (overlay ? '-overlay' : ''));
  const r = await run(['bash', join(STANDIN_DIR, 'build.sh'), release, out, ...(overlay ? ['--overlay', overlay] : [])], { timeoutMs: 600_000 });
  return r.stdout.trim().split('\n').pop()!;
}

/** prepare-iso equivalent: copy, then append a session with the mode file (+ answer.toml for iso mode). */
export async function prepareIso(stock: string, out: string, mode: 'iso' | 'partition', answer?: string): Promise<void> {
  copyFileSync(stock, out);
  const r = await run(['xorriso', '-dev', stock, '-report_system_area', 'cmd']);
  const uuid = /^-volume_date uuid '?(\d+)'?/m.exec(r.stdout)?.[1];
  if (!uuid) throw new Error(`prepareIso: no volume uuid in ${stock}`);
  const modeFile = `${out}.mode.toml`;
  writeFileSync(modeFile, `mode = "${mode}"\npartition_label = "proxmox-ais"\n\n[http]\n`);
  const maps = ['-map', modeFile, '/auto-installer-mode.toml'];
  if (answer !== undefined) {
    writeFileSync(`${out}.answer.toml`, answer);
    maps.push('-map', `${out}.answer.toml`, '/answer.toml');
  }
  await run(['xorriso', '-boot_image', 'any', 'keep', '-volume_date', 'uuid', uuid, '-dev', out, ...maps]);
}

/** A small ISO labelled LABEL carrying answer.toml (what packer's cd_label / a USB stick provides). */
export async function answerMedia(out: string, answer: string, label = 'PROXMOX-AIS'): Promise<void> {
  const dir = `${out}.d`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'answer.toml'), answer);
  await run(['xorriso', '-as', 'mkisofs', '-quiet', '-V', label, '-o', out, dir]);
}

export interface AnswerOpts {
  fqdn: string; ip: string; mac: string; sshKey: string; rebootMode?: 'reboot' | 'power-off';
  snake?: boolean; disk?: string; password?: string; rebootOnError?: boolean;
}
/** Answer file in the shape pvelab writes (proxmox.md A.3 minimal example); snake = ≤ 8.3 key style. */
export function answer(o: AnswerOpts): string {
  const k = (s: string) => (o.snake ? s.replace(/-/g, '_') : s);
  return [
    '[global]', 'keyboard = "en-us"', 'country = "us"', `fqdn = "${o.fqdn}"`, 'mailto = "root@lab.example"',
    'timezone = "UTC"', `${k('root-password')} = "${o.password ?? 'standin-pw-1'}"`,
    ...(o.rebootMode ? [`${k('reboot-mode')} = "${o.rebootMode}"`] : []),
    ...(o.rebootOnError ? [`${k('reboot-on-error')} = true`] : []),
    `${k('root-ssh-keys')} = ["${o.sshKey}"]`,
    '', '[network]', 'source = "from-answer"', `cidr = "${o.ip}/24"`, `dns = "${BRIDGE_GW}"`, `gateway = "${BRIDGE_GW}"`,
    `filter.ID_NET_NAME_MAC = "*${o.mac.replace(/:/g, '')}"`,
    '', '[disk-setup]', 'filesystem = "zfs"', 'zfs.raid = "raid0"', `${k('disk-list')} = ["${o.disk ?? 'vda'}"]`, '',
  ].join('\n');
}

/** br0 (10.99.0.1/24) inside the namespace; VMs get a tap on it. */
export async function nsBridge(ns: LabNs): Promise<void> {
  await ns.exec(['sh', '-c', `ip link add br0 type bridge && ip addr add ${BRIDGE_GW}/24 dev br0 && ip link set br0 up`]);
}

export interface VmOpts {
  name: string; dir: string; mac?: string; disks?: string[]; cdroms?: string[];
  cdFirst?: boolean; uefi?: boolean; noReboot?: boolean; memMb?: number;
}

export interface StandinVm {
  readonly serial: string;
  readonly exited: Promise<number | null>;
  isRunning(): boolean;
  text(): string;
  waitSerial(re: RegExp, timeoutMs: number, from?: number): Promise<RegExpExecArray>;
  qmp(cmd: string, args?: Record<string, unknown>): Promise<unknown>;
  stop(): Promise<void>;
}

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '\n');

export async function startVm(ns: LabNs, o: VmOpts): Promise<StandinVm> {
  mkdirSync(o.dir, { recursive: true });
  const serial = join(o.dir, `${o.name}.serial.log`);
  const qmpSock = join(o.dir, `${o.name}.qmp`);
  writeFileSync(serial, '');
  const argv = ['qemu-system-x86_64', '-machine', 'q35,accel=tcg', '-m', String(o.memMb ?? 512), '-smp', '1',
    '-display', 'none', '-serial', `file:${serial}`, '-qmp', `unix:${qmpSock},server=on,wait=off`, '-nodefaults'];
  if (o.noReboot) argv.push('-no-reboot');
  if (o.uefi) {
    const vars = join(o.dir, `${o.name}.vars.fd`);
    if (!existsSync(vars)) copyFileSync(OVMF_VARS, vars);
    argv.push('-drive', `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,file=${vars}`);
  }
  if (o.mac) {
    const tap = `tap${o.name}`.slice(0, 15);
    await ns.exec(['sh', '-c', `ip tuntap add dev ${tap} mode tap && ip link set ${tap} master br0 && ip link set ${tap} up`]);
    argv.push('-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${o.mac}`);
  }
  let idx = 0;
  const diskBase = o.cdFirst ? 10 : 0;
  const cdBase = o.cdFirst ? 0 : 10;
  (o.disks ?? []).forEach((d, i) => {
    argv.push('-drive', `file=${d},if=none,id=hd${i},format=qcow2`, '-device', `virtio-blk-pci,drive=hd${i},bootindex=${diskBase + i}`);
  });
  (o.cdroms ?? []).forEach((c, i) => {
    argv.push('-drive', `file=${c},if=none,id=cd${i},media=cdrom,readonly=on`, '-device', `ide-cd,drive=cd${i},bus=ide.${idx++},bootindex=${cdBase + i}`);
  });
  const child: ChildProcess = ns.spawn(argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let running = true;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => ((running = false), resolve(code))));
  const text = () => stripAnsi(readFileSync(serial, 'utf8'));
  const vm: StandinVm = {
    serial, exited, text,
    isRunning: () => running,
    async waitSerial(re, timeoutMs, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(text().slice(from));
        if (m) return m;
        if (!running) throw new Error(`${o.name}: VM exited before ${re} appeared\n${stderr}\n--- serial tail ---\n${text().slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`${o.name}: ${re} not seen within ${timeoutMs} ms\n--- serial tail ---\n${text().slice(-2000)}`);
        await sleep(250);
      }
    },
    qmp: (cmd, args) => qmp(qmpSock, cmd, args),
    async stop() { // child is nsenter; QEMU is its child inside the namespace: kill that one
      if (!running) return;
      let kids: string[] = [];
      try { kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean); } catch { /* gone */ }
      for (const k of kids) { try { process.kill(Number(k), 'SIGKILL'); } catch { /* gone */ } }
      if (!kids.length) child.kill('SIGKILL');
      await exited;
    },
  };
  return vm;
}

/** One QMP command over a fresh connection (greeting, qmp_capabilities, command). */
export function qmp(sock: string, cmd: string, args?: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock);
    let buf = '';
    let stage = 0;
    const timer = setTimeout(() => (c.destroy(), reject(new Error(`qmp ${cmd}: timeout`))), 10_000);
    c.setEncoding('utf8');
    c.on('error', (e) => (clearTimeout(timer), reject(e)));
    c.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        if ('event' in msg) continue;
        if (stage === 0 && 'QMP' in msg) { stage = 1; c.write('{"execute":"qmp_capabilities"}\n'); continue; }
        if (stage === 1 && 'return' in msg) { stage = 2; c.write(JSON.stringify({ execute: cmd, ...(args ? { arguments: args } : {}) }) + '\n'); continue; }
        if (stage === 2) {
          clearTimeout(timer); c.end();
          if ('error' in msg) reject(new Error(`qmp ${cmd}: ${JSON.stringify(msg.error)}`)); else resolve(msg.return);
        }
      }
    });
  });
}

/** ssh from inside the namespace with KEY; resolves with the command result (never throws on exit code). */
export function sshNode(ns: LabNs, key: string, ip: string, cmd: string, timeoutMs = 30_000) {
  return ns.exec(['ssh', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=4', '-o', 'LogLevel=ERROR', `root@${ip}`, cmd], { allowFail: true, timeoutMs });
}

export async function makeKey(path: string): Promise<string> {
  if (!existsSync(path)) await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'standin-test', '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

export const qcow2 = (path: string, size = '1G') => run(['qemu-img', 'create', '-q', '-f', 'qcow2', path, size]);

/** The identity block (README "Disk identity") of an installed qcow2 disk, or '' if none. */
export async function diskIdentity(disk: string): Promise<string> {
  const raw = `${disk}.ident.raw`;
  await run(['qemu-img', 'convert', '-U', '-f', 'qcow2', '-O', 'raw', disk, raw]); // sparse, fast
  try {
    const buf = Buffer.alloc(65536);
    const fd = openSync(raw, 'r');
    try { readSync(fd, buf, 0, buf.length, 64 * 1024 * 1024); } finally { closeSync(fd); }
    const text = buf.toString('latin1').replace(/\0+$/, '');
    return text.startsWith('STANDIN-IDENTITY 1') ? text.slice(0, text.indexOf('\nEND') + 4) : '';
  } finally {
    rmSync(raw, { force: true });
  }
}
