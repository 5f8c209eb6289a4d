// Test ISO of the same kind as the PVE one (test-harness.md §6): grub-mkrescue hybrid (El Torito BIOS
// + UEFI, MBR/GPT/APM/HFS+) with the busybox test kernel, /.cd-info and (unless told otherwise)
// /auto-installer-capable. Like Proxmox's grub.cfg it branches on `[ -f /auto-installer-mode.toml ]`;
// the branch goes into the kernel command line (lab_name=pvelab-automated|pvelab-stock), which the kernel
// echoes on the serial console before the guest prints LAB-READY.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBusyboxGuest } from '../helpers/guest.js';
import { run } from '../helpers/run.js';

export async function buildHybridIso(out: string, opts: { work: string; capable?: boolean; release?: string }): Promise<void> {
  const g = await buildBusyboxGuest();
  const root = mkdtempSync(join(opts.work, 'root-'));
  mkdirSync(join(root, 'boot/grub'), { recursive: true });
  copyFileSync(g.kernel, join(root, 'boot/vmlinuz'));
  copyFileSync(g.initrd, join(root, 'boot/initrd.gz'));
  writeFileSync(
    join(root, 'boot/grub/grub.cfg'),
    [
      'set timeout=0',
      'if [ -f /auto-installer-mode.toml ]; then set branch=pvelab-automated; else set branch=pvelab-stock; fi',
      'menuentry "test" {',
      '  linux /boot/vmlinuz console=ttyS0,115200 panic=-1 lab_name=$branch',
      '  initrd /boot/initrd.gz',
      '}',
      '',
    ].join('\n'),
  );
  const [ver, iso] = (opts.release ?? '9.2-1').split('-');
  writeFileSync(join(root, '.cd-info'), `PRODUCT='pve'\nPRODUCTLONG='Proxmox VE'\nRELEASE='${ver}'\nISORELEASE='${iso}'\nISONAME='proxmox-ve'\n`);
  if (opts.capable !== false) writeFileSync(join(root, 'auto-installer-capable'), '');
  await run(['grub-mkrescue', '-o', out, root], { timeoutMs: 120_000 });
  rmSync(root, { recursive: true, force: true });
}
