// Our checker of Proxmox's answer-file rules, against upstream parser inputs and known failures.
import { describe, expect, it } from 'vitest';
import { checkAnswerText, fqdnProblem } from '../../lab/iso/answer-rules.js';
import { release } from '../../lab/iso/release.js';
import { upstreamAnswers } from './iso-fixtures.js';

const all = upstreamAnswers();
const minimal = all.get('minimal')!;
const errors = (text: string, rel = '9.2-1') => checkAnswerText(text, release(rel)).filter((i) => i.severity === 'error');
/** Distinct paths with errors (a dropped bad key can also trip a rule that needs it). */
const paths = (text: string, rel = '9.2-1') => [...new Set(errors(text, rel).map((i) => i.path))];
/** minimal.toml with `line` replaced / added in its section. */
const edit = (from: string | RegExp, to: string, base = minimal) => {
  const out = base.replace(from, to);
  if (out === base) throw new Error(`edit did not apply: ${from}`);
  return out;
};
const SNAKE_83 = `[global]\nkeyboard = "de"\ncountry = "at"\nfqdn = "pve.test.example"\nmailto = "a@b.example"\ntimezone = "UTC"\nroot_password_hashed = "$6$abc$${'x'.repeat(86)}"\nroot_ssh_keys = []\n\n[network]\nsource = "from-dhcp"\n\n[disk-setup]\nfilesystem = "zfs"\nzfs.raid = "raid0"\nzfs.arc_max = 1024\ndisk_list = ["vda"]\n`;

describe('upstream parser inputs', () => {
  it('all eight pass for 9.2 with no warning', () => {
    for (const [name, text] of all) expect(checkAnswerText(text, release('9.2-1')), name).toEqual([]);
  });

  it('interface-name pinning is refused before 9.1', () => {
    expect(paths(all.get('network-interface-pinning')!, '9.0-1')).toEqual(['network.interface-name-pinning']);
    expect(paths(all.get('network-interface-pinning')!, '9.1-1')).toEqual([]);
  });

  it('fqdn from DHCP needs 8.4, first-boot 8.3', () => {
    expect(paths(all.get('fqdn-from-dhcp')!, '8.4-1')).toEqual([]);
    expect(errors(all.get('fqdn-from-dhcp')!, '8.3-1').map((i) => i.path)).toContain('global.fqdn');
    expect(paths(all.get('first-boot')!, '8.2-2')).toContain('first-boot');
  });

  it('kebab-case keys are unknown to 8.2/8.3 and the message names the old spelling', () => {
    const e = errors(minimal, '8.3-1');
    expect(paths(minimal, '8.3-1')).toEqual(['global.root-password', 'disk-setup.disk-list']);
    expect(e[0]!.message).toContain('spelled "root_password"');
  });
});

describe('key style by release', () => {
  it('snake_case is the only style for 8.3', () => {
    expect(checkAnswerText(SNAKE_83, release('8.3-1'))).toEqual([]);
  });

  it('8.4+ accepts snake_case as deprecated (warnings, no errors)', () => {
    const issues = checkAnswerText(SNAKE_83, release('9.2-1'));
    expect(issues.every((i) => i.severity === 'warning')).toBe(true);
    expect(issues.map((i) => i.path)).toEqual(['global.root_password_hashed', 'global.root_ssh_keys', 'disk-setup.zfs.arc_max', 'disk-setup.disk_list']);
  });

  it('8.2 knows no hashed password, no reboot-mode, and needs the plain one', () => {
    expect(paths(SNAKE_83, '8.2-1')).toEqual(['global.root_password_hashed', 'global.root-password']);
    const plain = SNAKE_83.replace(/root_password_hashed = ".*"/, 'root_password = "12345678"');
    expect(paths(plain, '8.2-1')).toEqual([]);
    expect(paths(plain.replace('[network]', 'reboot_mode = "power-off"\n\n[network]'), '8.3-1')).toEqual(['global.reboot_mode']);
  });

  it('a key given in both spellings is refused', () => {
    expect(paths(edit('root-password = "12345678"', 'root-password = "12345678"\nroot_password = "12345678"'))).toContain('global.root_password');
  });
});

describe('installer rules', () => {
  const cases: [string, string | RegExp, string, RegExp][] = [
    ['unknown key', 'timezone = "Europe/Vienna"', 'timezone = "Europe/Vienna"\nlanguage = "de"', /unknown key/],
    ['short password', 'root-password = "12345678"', 'root-password = "1234567"', /at least 8 characters/],
    ['both passwords', 'root-password = "12345678"', 'root-password = "12345678"\nroot-password-hashed = "$6$a$b"', /cannot both be set/],
    ['no password', 'root-password = "12345678"\n', '', /one of root-password or root-password-hashed/],
    ['not a crypt hash', 'root-password = "12345678"', 'root-password-hashed = "secret"', /crypt/],
    ['hostname-only fqdn', 'fqdn = "pveauto.testinstall"', 'fqdn = "pveauto"', /bare host name is rejected/],
    ['numeric host', 'fqdn = "pveauto.testinstall"', 'fqdn = "123.testinstall"', /numeric/],
    ['bad keyboard', 'keyboard = "de"', 'keyboard = "us"', /not one of/],
    ['bad country', 'country = "at"', 'country = "xx"', /country code/],
    ['upper-case country', 'country = "at"', 'country = "AT"', /country code/],
    ['bad timezone', 'timezone = "Europe/Vienna"', 'timezone = "Mars/Olympus"', /time zone/],
    ['Etc zones are not in the list', 'timezone = "Europe/Vienna"', 'timezone = "Etc/UTC"', /time zone/],
    ['placeholder mail', 'mailto = "mail@no.invalid"', 'mailto = "mail@example.invalid"', /placeholder/],
    ['bad mail', 'mailto = "mail@no.invalid"', 'mailto = "no at sign"', /e-mail/],
    ['ssh key', 'timezone = "Europe/Vienna"', 'timezone = "Europe/Vienna"\nroot-ssh-keys = ["not a key"]', /OpenSSH public key/],
    ['missing section', /\[disk-setup\][^]*$/, '', /section is required/],
    ['cidr with from-dhcp', 'source = "from-dhcp"', 'source = "from-dhcp"\ncidr = "10.0.0.2/24"', /not allowed with source = "from-dhcp"/],
    ['from-answer without gateway', 'source = "from-dhcp"', 'source = "from-answer"\ncidr = "10.0.0.2/24"\ndns = "10.0.0.1"\nfilter.ID_NET_NAME_MAC = "*5254"', /gateway: is required/],
    ['from-answer without filter', 'source = "from-dhcp"', 'source = "from-answer"\ncidr = "10.0.0.2/24"\ndns = "10.0.0.1"\ngateway = "10.0.0.1"', /filter: is required/],
    ['prefix 33', 'source = "from-dhcp"', 'source = "from-answer"\ncidr = "10.0.0.2/33"\ndns = "10.0.0.1"\ngateway = "10.0.0.1"\nfilter.ID_NET_NAME = "e*"', /not an address with prefix/],
    ['bad dns', 'source = "from-dhcp"', 'source = "from-answer"\ncidr = "10.0.0.2/24"\ndns = "10.0.0.256"\ngateway = "10.0.0.1"\nfilter.ID_NET_NAME = "e*"', /not an IP address/],
    ['no disks', 'disk-list = ["sda"]', '', /either disk-list or filter/],
    ['disks twice', 'disk-list = ["sda"]', 'disk-list = ["sda"]\nfilter.ID_SERIAL = "x*"', /cannot both be set/],
    ['duplicate disk', 'filesystem = "ext4"\ndisk-list = ["sda"]', 'filesystem = "zfs"\nzfs.raid = "raid1"\ndisk-list = ["sda", "sda"]', /duplicate device sda/],
    ['/dev path', 'disk-list = ["sda"]', 'disk-list = ["/dev/sda"]', /without \/dev/],
    ['ext4 on two disks', 'disk-list = ["sda"]', 'disk-list = ["sda", "sdb"]', /exactly one disk/],
    ['zfs option with ext4', 'disk-list = ["sda"]', 'disk-list = ["sda"]\nzfs.raid = "raid0"', /only lvm options/],
    ['zfs without raid', 'filesystem = "ext4"', 'filesystem = "zfs"', /zfs.raid: is required/],
    ['raid10 on one disk', 'filesystem = "ext4"', 'filesystem = "zfs"\nzfs.raid = "raid10"', /RAID10 needs at least 4 disks, got 1/],
    ['btrfs raid1 on one disk', 'filesystem = "ext4"', 'filesystem = "btrfs"\nbtrfs.raid = "raid1"', /RAID1 needs at least 2 disks, got 1/],
    ['swap too big', 'disk-list = ["sda"]', 'disk-list = ["sda"]\nlvm.hdsize = 32\nlvm.swapsize = 16.01', /hdsize \/ 2/],
    ['uint as float', 'filesystem = "ext4"', 'filesystem = "zfs"\nzfs.raid = "raid0"\nzfs.ashift = 12.0', /non-negative integer/],
    ['first-boot from-url without url', '[network]', '[first-boot]\nsource = "from-url"\n\n[network]', /first-boot.url: is required/],
    ['reboot-mode value', 'timezone = "Europe/Vienna"', 'timezone = "Europe/Vienna"\nreboot-mode = "halt"', /not one of "reboot", "power-off"/],
    ['toml syntax', 'keyboard = "de"', 'keyboard = de', /not a TOML value/],
  ];
  for (const [name, from, to, re] of cases)
    it(`refuses: ${name}`, () => {
      const e = errors(edit(from, to));
      expect(e.length, JSON.stringify(e)).toBeGreaterThan(0);
      expect(e.map((i) => `${i.path}: ${i.message}`).join('\n')).toMatch(re);
    });

  it('accepts upper-case RAID levels from 8.4 on only', () => {
    const up = edit('filesystem = "ext4"', 'filesystem = "zfs"\nzfs.raid = "RAID0"');
    expect(paths(up, '9.0-1')).toEqual([]);
    expect(paths(up.replace('root-password', 'root_password').replace('disk-list', 'disk_list'), '8.3-1')).toEqual(['disk-setup.zfs.raid']);
  });

  it('fqdn rules', () => {
    expect(fqdnProblem('pve1.lab.example')).toBeUndefined();
    expect(fqdnProblem('-a.example')).toMatch(/invalid label/);
    expect(fqdnProblem(`a.${'b'.repeat(64)}`)).toMatch(/invalid label/);
  });

  it('placeholders are accepted only when asked for', () => {
    const ph = edit('root-password = "12345678"', 'root-password-hashed = "<hash made at up>"');
    expect(paths(ph)).toEqual(['global.root-password-hashed']);
    expect(checkAnswerText(ph, release('9.2-1'), { placeholders: true })).toEqual([]);
  });
});
