// Busybox TCG test guest (test-harness.md §2.2) and test-only domain XML for it.
// Contract: buildBusyboxGuest() returns absolute paths of a kernel + initrd cached under
// <repo>/.cache/guest/<key>/, key = hash of mk-guest.sh and /bin/busybox (the kernel .deb is cached in
// <repo>/.cache/guest/debs/). Concurrent builders are safe: each builds in its own temp dir, first rename wins.
// Guest cmdline: lab_ip=A.B.C.D/NN|dhcp lab_gw=A.B.C.D lab_name=NAME; it serves "hello from NAME" on :80
// and prints "LAB-READY <uptime>" on ttyS0.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertLabRoute } from './netalloc.js';
import { run, sleep, waitFor } from './run.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./mk-guest.sh', import.meta.url));

export interface GuestImage {
  kernel: string;
  initrd: string;
}

let building: Promise<GuestImage> | undefined;

export function buildBusyboxGuest(): Promise<GuestImage> {
  building ??= build().catch((err: unknown) => {
    building = undefined;
    throw err;
  });
  return building;
}

async function build(): Promise<GuestImage> {
  const h = createHash('sha256').update(readFileSync(SCRIPT)).update(readFileSync('/bin/busybox'));
  const root = join(REPO, '.cache', 'guest');
  const out = join(root, h.digest('hex').slice(0, 16));
  const img = { kernel: join(out, 'vmlinuz'), initrd: join(out, 'initrd.gz') };
  if (existsSync(img.kernel) && existsSync(img.initrd)) return img;
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await run(['bash', SCRIPT, tmp, join(root, 'debs')], { timeoutMs: 10 * 60_000 });
  try {
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(img.kernel)) throw err; // lost the race only if the winner's result is there
  }
  return img;
}

const xmlEsc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/** Stable locally administered MAC (52:54:00:xx:xx:xx) derived from a name. */
export function macFor(name: string): string {
  const d = createHash('sha256').update(name).digest();
  return `52:54:00:${[d[0], d[1], d[2]].map((b) => (b ?? 0).toString(16).padStart(2, '0')).join(':')}`;
}

export interface GuestDomainOpts {
  name: string;
  image: GuestImage;
  ip: string; // 'A.B.C.D/NN' or 'dhcp'
  gateway?: string;
  network?: string; // libvirt network name ...
  bridge?: string; // ... or an existing bridge in the namespace (exactly one of the two)
  mac?: string; // default macFor(name)
  consoleLog: string; // serial console log file (absolute path)
  memoryMiB?: number; // default 256
  extraDevices?: string; // raw XML inside <devices>, e.g. an iSCSI <disk>
}

/** Test-only TCG domain: q35, direct kernel boot, virtio NIC, serial console logged to a file. */
export function guestDomainXml(o: GuestDomainOpts): string {
  if (!o.network === !o.bridge) throw new Error('guestDomainXml: give exactly one of network / bridge');
  const cmdline = ['console=ttyS0', 'quiet', 'panic=-1', `lab_name=${o.name}`, `lab_ip=${o.ip}`];
  if (o.gateway) cmdline.push(`lab_gw=${o.gateway}`);
  const nic = o.network
    ? `<interface type='network'><source network='${xmlEsc(o.network)}'/>`
    : `<interface type='bridge'><source bridge='${xmlEsc(o.bridge ?? '')}'/>`;
  return `<domain type='qemu'>
  <name>${xmlEsc(o.name)}</name><memory unit='MiB'>${o.memoryMiB ?? 256}</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type><kernel>${xmlEsc(o.image.kernel)}</kernel><initrd>${xmlEsc(o.image.initrd)}</initrd>
    <cmdline>${xmlEsc(cmdline.join(' '))}</cmdline></os>
  <on_reboot>destroy</on_reboot>
  <devices>
    ${nic}<mac address='${xmlEsc(o.mac ?? macFor(o.name))}'/><model type='virtio'/><rom enabled='no'/></interface>
    <serial type='pty'><log file='${xmlEsc(o.consoleLog)}' append='off'/></serial><console type='pty'/>
    <memballoon model='none'/>
    ${o.extraDevices ?? ''}
  </devices>
</domain>
`;
}

/**
 * Polls url until the body contains `contains`; returns the body. Each request times out after 2 s.
 * Before every request the target must still be routed into a lab namespace (assertLabRoute), else it
 * fails at once instead of sending traffic out of the default route.
 */
export async function waitForHttp(url: string, contains: string, timeoutMs = 120_000): Promise<string> {
  const host = new URL(url).hostname;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    await assertLabRoute(host);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      if (body.includes(contains)) return body;
      last = `HTTP ${res.status}: ${body.slice(0, 200)}`;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${url} to answer "${contains}" (last: ${last})`);
    await sleep(250);
  }
}

/** Waits until a text file (e.g. a guest console log) contains `contains`; returns its content. */
export async function waitForFile(path: string, contains: string, timeoutMs = 120_000): Promise<string> {
  return waitFor(
    `${path} to contain "${contains}"`,
    () => {
      const s = existsSync(path) ? readFileSync(path, 'utf8') : '';
      return s.includes(contains) ? s : undefined;
    },
    timeoutMs,
    200,
  );
}
