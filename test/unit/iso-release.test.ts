// Releases, per-release installer profile, and the auto-installer-mode.toml bytes.
import { describe, expect, it } from 'vitest';
import { compareRelease, installerProfile, isoFileName, needsOnRebootDestroy, parseRelease, release, releaseOfFileName } from '../../lab/iso/release.js';
import { modeFileText, preparedIsoName } from '../../lab/iso/prepare.js';
import { parseCdInfo } from '../../lab/iso/inspect.js';
import { parseToml } from '../../lab/iso/toml.js';

describe('releases', () => {
  it('parses, names and orders releases', () => {
    expect(parseRelease('8.4-1')).toEqual({ id: '8.4-1', version: '8.4', major: 8, minor: 4, isoRelease: 1 });
    expect(parseRelease('latest-9')).toBeUndefined();
    expect(parseRelease('8.4')).toBeUndefined();
    expect(isoFileName(release('9.2-1'))).toBe('proxmox-ve_9.2-1.iso');
    expect(releaseOfFileName('proxmox-ve_8.2-2.iso')?.id).toBe('8.2-2');
    expect(releaseOfFileName('proxmox-backup-server_3.4-1.iso')).toBeUndefined();
    const sorted = ['9.10-1', '8.4-1', '9.2-1', '9.9-3', '9.2-2'].map(release).sort(compareRelease).map((r) => r.id);
    expect(sorted).toEqual(['8.4-1', '9.2-1', '9.2-2', '9.9-3', '9.10-1']);
  });

  it('knows what each release accepts', () => {
    expect(installerProfile(release('8.2-1'))).toEqual({ keyStyle: 'snake', powerOffAfterInstall: false, hashedPassword: false, modeFilePartitionLabel: false, supported: true });
    expect(installerProfile(release('8.3-1'))).toEqual({ keyStyle: 'snake', powerOffAfterInstall: false, hashedPassword: true, modeFilePartitionLabel: true, supported: true });
    expect(installerProfile(release('8.4-1'))).toMatchObject({ keyStyle: 'kebab', powerOffAfterInstall: true });
    expect(installerProfile(release('9.2-1'))).toMatchObject({ keyStyle: 'kebab', powerOffAfterInstall: true, hashedPassword: true });
    expect(installerProfile(release('8.1-2')).supported).toBe(false);
    expect(needsOnRebootDestroy(release('8.3-1'))).toBe(true);
    expect(needsOnRebootDestroy(release('9.0-1'))).toBe(false);
  });
});

describe('auto-installer-mode.toml', () => {
  it('is the 59-byte partition-mode file for 8.3 and later', () => {
    const t = modeFileText(release('9.2-1'));
    expect(t).toBe('mode = "partition"\npartition_label = "proxmox-ais"\n\n[http]\n');
    expect(Buffer.byteLength(t)).toBe(59);
    expect(modeFileText(release('8.3-1'))).toBe(t);
  });

  it('has no partition_label for 8.2 (its reader denies unknown fields)', () => {
    const t = modeFileText(release('8.2-2'));
    expect(parseToml(t)).toEqual({ mode: 'partition', http: {} });
  });

  it('the prepared ISO is named like the assistant names it', () => {
    expect(preparedIsoName(release('9.2-1'))).toBe('proxmox-ve_9.2-1-auto-from-partition.iso');
  });
});

describe('/.cd-info', () => {
  it('parses shell-style lines like the installer (keys lower-cased, quotes dropped)', () => {
    const kv = parseCdInfo("PRODUCT='pve'\nPRODUCTLONG='Proxmox VE'\nRELEASE='9.2'\nISORELEASE='1'\nISONAME='proxmox-ve'\n");
    expect(kv).toEqual({ product: 'pve', productlong: 'Proxmox VE', release: '9.2', isorelease: '1', isoname: 'proxmox-ve' });
    expect(parseCdInfo('RELEASE="8.4"\nnoise\n')).toEqual({ release: '8.4' });
  });
});
