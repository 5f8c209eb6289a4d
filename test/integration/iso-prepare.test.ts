// Prepared ISO and answer media on a real hybrid ISO (test-harness.md §6): a grub-mkrescue ISO
// (El Torito BIOS + UEFI, MBR/GPT/APM/HFS+) carrying the busybox test kernel, /auto-installer-capable
// and /.cd-info. It is prepared like prepare-iso does, checked (mode file, volume UUID), and booted under
// TCG with SeaBIOS and with OVMF; its grub.cfg, like Proxmox's, branches on `[ -f /auto-installer-mode.toml ]`
// and puts the branch into the kernel command line, which the kernel echoes on the serial console.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHybridIso } from './iso-hybrid.js';
import { run, waitFor } from '../helpers/run.js';
import { LocalRunner } from '../../lab/exec/local.js';
import { LabError } from '../../lab/core/errors.js';
import { assertAutoInstallCapable, readCdInfo, readIsoFile, volumeUuid } from '../../lab/iso/inspect.js';
import { checkPrepared, modeFileText, prepareIso } from '../../lab/iso/prepare.js';
import { buildAnswerIso, readAnswerIso } from '../../lab/iso/media.js';
import { release } from '../../lab/iso/release.js';

const host = new LocalRunner();
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const work = mkdtempSync(join(tmpdir(), 'pvelab-isoprep-'));
const stock = join(work, 'proxmox-ve_9.2-1.iso');
const prepared = join(work, 'prepared.iso');
const qemus = new Set<ChildProcess>();

/** Boots an ISO under TCG until the serial log shows the kernel command line and LAB-READY. */
async function boot(iso: string, firmware: 'bios' | 'uefi'): Promise<string> {
  const log = join(work, `serial-${firmware}.log`);
  rmSync(log, { force: true });
  const argv = ['-machine', 'q35,accel=tcg', '-m', '512', '-display', 'none', '-serial', `file:${log}`, '-nic', 'none', '-no-reboot', '-cdrom', iso, '-boot', 'd'];
  if (firmware === 'uefi') {
    const vars = join(work, 'VARS.fd');
    copyFileSync(OVMF_VARS, vars);
    argv.push('-drive', `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,file=${vars}`);
  }
  const q = spawn('qemu-system-x86_64', argv, { stdio: 'ignore' });
  qemus.add(q);
  try {
    const exited = new Promise<never>((_, reject) => q.once('exit', (code) => reject(new Error(`qemu exited (${code}) before LAB-READY:\n${existsSync(log) ? readFileSync(log, 'utf8') : ''}`))));
    const ready = waitFor(`${firmware} boot of ${iso} to print LAB-READY`, () => {
      const s = existsSync(log) ? readFileSync(log, 'utf8') : '';
      return s.includes('LAB-READY') ? s : undefined;
    }, 150_000, 250);
    return await Promise.race([ready, exited]);
  } finally {
    q.kill('SIGKILL');
    qemus.delete(q);
  }
}

beforeAll(async () => {
  await buildHybridIso(stock, { work });
}, 600_000);

afterAll(() => {
  for (const q of qemus) q.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('ISO inspection', () => {
  it('reads the release from /.cd-info and the volume UUID', async () => {
    expect((await readCdInfo(host, stock)).release.id).toBe('9.2-1');
    expect(await volumeUuid(host, stock)).toMatch(/^\d{16}$/);
    await assertAutoInstallCapable(host, stock);
  });

  it('refuses an ISO without /auto-installer-capable, and a file that is no ISO', async () => {
    const old = join(work, 'old.iso');
    await buildHybridIso(old, { work, capable: false, release: '8.1-2' });
    const err = await prepareIso(host, old, join(work, 'never.iso'), release('8.1-2')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).message).toMatch(/cannot be installed automatically: it has no \/auto-installer-capable/);
    expect((err as LabError).hint).toMatch(/8\.2 on/);
    expect(existsSync(join(work, 'never.iso'))).toBe(false);
    const junk = join(work, 'junk.iso');
    writeFileSync(junk, Buffer.alloc(1 << 16, 7));
    await expect(readCdInfo(host, junk)).rejects.toThrow(/no ISO 9660 image/);
  });
});

describe('prepared ISO', () => {
  it('adds the partition-mode file, keeps the volume UUID and the boot images, and is recognised as prepared', async () => {
    expect((await checkPrepared(host, stock, prepared, release('9.2-1'))).ok).toBe(false);
    await prepareIso(host, stock, prepared, release('9.2-1'));
    expect(await readIsoFile(host, prepared, '/auto-installer-mode.toml')).toBe(modeFileText(release('9.2-1')));
    expect(Buffer.byteLength(modeFileText(release('9.2-1')))).toBe(59);
    expect(await volumeUuid(host, prepared)).toBe(await volumeUuid(host, stock));
    expect(await readIsoFile(host, stock, '/auto-installer-mode.toml')).toBeUndefined(); // the stock ISO is untouched
    expect(await checkPrepared(host, stock, prepared, release('9.2-1'))).toEqual({ ok: true });
    expect(await checkPrepared(host, stock, prepared, release('8.2-1'))).toMatchObject({ ok: false, reason: expect.stringMatching(/different/) });
    // Both boot images (BIOS and UEFI) stay where they were: same platform, size and LBA.
    const images = async (iso: string) =>
      (await run(['xorriso', '-indev', iso, '-report_el_torito', 'plain'])).stdout.split('\n').filter((l) => l.startsWith('El Torito boot img'));
    const before = await images(stock);
    expect(before.join('\n')).toMatch(/BIOS[^]*UEFI/);
    expect(await images(prepared)).toEqual(before);
  });

  it('control: the stock ISO boots into the stock branch (the branch follows the mode file)', async () => {
    expect(await boot(stock, 'bios')).toContain('lab_name=pvelab-stock');
  }, 200_000);

  it('boots under BIOS into the automated branch', async () => {
    const log = await boot(prepared, 'bios');
    expect(log).toContain('lab_name=pvelab-automated');
  }, 200_000);

  it('boots under UEFI into the automated branch', async () => {
    const log = await boot(prepared, 'uefi');
    expect(log).toContain('lab_name=pvelab-automated');
  }, 200_000);
});

describe('answer medium', () => {
  it('is a 0600 ISO labelled PROXMOX-AIS holding /answer.toml byte for byte', async () => {
    const out = join(work, 'answer', 'pve1-answer.iso');
    const text = '[global]\nkeyboard = "en-us"\nroot-password-hashed = "$6$x$y"\n# ünïcode\n';
    await buildAnswerIso(host, text, out);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(await readAnswerIso(host, out)).toEqual({ volid: 'PROXMOX-AIS', answer: text });
    // What udev's by-label link is made from:
    expect((await run(['blkid', '-o', 'value', '-s', 'LABEL', out])).stdout.trim()).toBe('PROXMOX-AIS');
    await buildAnswerIso(host, 'changed\n', out); // rebuilt in place, no appended session
    expect((await readAnswerIso(host, out))?.answer).toBe('changed\n');
    expect(await readAnswerIso(host, join(work, 'missing.iso'))).toBeUndefined();
  });
});
