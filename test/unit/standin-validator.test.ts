// The stand-in installer's answer.toml validation (test/standin/installer/validate-answer.sh), run on the
// host with busybox sh + busybox awk exactly as inside the installer. Upstream facts: proxmox.md A.3/A.4,
// pve-installer tests/resources/parse_answer{,_fail}.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const VALIDATE = new URL('../standin/installer/validate-answer.sh', import.meta.url).pathname;
const FIXTURES = '/work/shared/fixtures/pve';
const BUSYBOX = '/bin/busybox';
const skip = !existsSync(BUSYBOX) ? 'busybox-static (/bin/busybox) not installed' : !existsSync(FIXTURES) ? `${FIXTURES} missing` : '';
const tmp = mkdtempSync(join(tmpdir(), 'standin-validate-'));

// Hardware like upstream's run-env (SAMSUNG MZ7KM240 disks, enp129s0f1np1) plus a lab VM's vda/vdb + NIC.
const HW = ['--nics', '52:54:00:00:00:11', '--nic', 'enp129s0f1np1,1c:34:da:5c:5e:25',
  ...['sda', 'sdb', 'sdc', 'sdd'].flatMap((d, i) => ['--disk', `${d},ID_SERIAL=SAMSUNG_MZ7KM240HAGR-00005_S2HRNX0H50012${i}`]),
  '--disks', 'vda,vdb', '--dhcp-hostname', 'pveauto', '--dhcp-domain', 'testinstall'];

function validate(release: string, toml: string, extra: string[] = HW) {
  const f = join(tmp, `a-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(f, toml);
  const r = spawnSync(BUSYBOX, ['sh', VALIDATE, '--release', release, ...extra, f], {
    encoding: 'utf8', env: { ...process.env, STANDIN_AWK: `${BUSYBOX} awk` },
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

const BASE = `[global]
keyboard = "en-us"
country = "us"
fqdn = "pve1.lab.example"
mailto = "root@lab.example"
timezone = "Europe/Vienna"
root-password = "12345678"
reboot-mode = "power-off"
root-ssh-keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB test"]

[network]
source = "from-answer"
cidr = "10.99.0.11/24"
dns = "10.99.0.1"
gateway = "10.99.0.1"
filter.ID_NET_NAME_MAC = "*525400000011"

[disk-setup]
filesystem = "zfs"
zfs.raid = "raid0"
disk-list = ["vda"]
`;
const edit = (re: RegExp | string, to: string) => { const s = BASE.replace(re, to); expect(s).not.toBe(BASE); return s; };

describe.skipIf(!!skip)(`standin answer validation ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const fixtures = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((f) => /^answer-.*\.toml$/.test(f)) : [];

  it('has the upstream example answer files to check', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
  });

  // All fixtures come from pve-installer 9.2.7 (kebab-case keys): they target ISO 9.2.
  it.each(fixtures)('accepts upstream example %s for release 9.2', (f) => {
    const r = validate('9.2', readFileSync(join(FIXTURES, f), 'utf8'));
    expect(r.out).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^INFO: Selected disks?: \/dev\/sd/m);
  });

  it('accepts the kebab-case examples on 8.4 except features newer than 8.4', () => {
    expect(validate('8.4', readFileSync(join(FIXTURES, 'answer-minimal.toml'), 'utf8')).code).toBe(0);
    const pin = validate('8.4', readFileSync(join(FIXTURES, 'answer-network-interface-pinning.toml'), 'utf8'));
    expect(pin.code).toBe(1);
    expect(pin.out).toMatch(/unknown field `interface-name-pinning`/);
    expect(validate('9.1', readFileSync(join(FIXTURES, 'answer-network-interface-pinning.toml'), 'utf8')).code).toBe(0);
  });

  it('8.3 takes snake_case keys only and has no reboot-mode', () => {
    const kebab = validate('8.3', readFileSync(join(FIXTURES, 'answer-minimal.toml'), 'utf8'));
    expect(kebab.code).toBe(1);
    expect(kebab.out).toContain('ERROR: Autoinstaller setup error: TOML parse error at line 8, column 1');
    expect(kebab.out).toMatch(/unknown field `root-password`, expected one of `keyboard`, `country`.*`root_password`/);
    const snake = BASE.replace('root-password', 'root_password').replace('root-ssh-keys', 'root_ssh_keys').replace('disk-list', 'disk_list');
    const withMode = validate('8.3', snake);
    expect(withMode.out).toMatch(/unknown field `reboot-mode`/);
    expect(validate('8.3', snake.replace(/^reboot-mode.*\n/m, '')).code).toBe(0);
    expect(validate('8.4', snake).code).toBe(0); // 8.4+: snake_case still accepted
  });

  const cases: [string, string, RegExp][] = [
    ['unknown key', edit(/^timezone.*$/m, '$&\nbogus = 1'), /unknown field `bogus`, expected one of `country`/],
    ['missing section', edit(/\[disk-setup\][\s\S]*$/, ''), /missing field `disk-setup`/],
    ['missing required key', edit(/^country.*\n/m, ''), /missing field `country`/],
    ['short root password', edit('12345678', '1234567'), /ERROR: Installation failed: `global.root-password` must be at least 8 characters long/],
    ['both passwords', edit(/^root-password = .*$/m, '$&\nroot-password-hashed = "$6$x$y"'), /`global.root-password` and `global.root-password-hashed` cannot be set at the same time/],
    ['no password', edit(/^root-password = .*\n/m, ''), /One of `global.root-password` or `global.root-password-hashed` must be set/],
    ['hostname-only fqdn', edit('pve1.lab.example', 'pve1'), /either a fully-qualified domain name or extendend configuration for usage with DHCP must be specified/],
    ['keyboard not in list', edit('en-us', 'en-xx'), /unknown variant `en-xx`, expected one of `de`, `de-ch`/],
    ['country not in list', edit('"us"', '"zz"'), /ERROR: Installation failed: country code 'zz' is not valid/],
    ['timezone not in list', edit('Europe/Vienna', 'Mars/Olympus'), /ERROR: Installation failed: timezone 'Mars\/Olympus' is not valid/],
    ['NIC filter matches no MAC', edit('525400000011', '525400000099'), /ERROR: Installation failed: filter did not match any device$/m],
    ['from-answer without filter', edit(/^filter\.ID_NET.*\n/m, ''), /no filter defined/],
    ['disk list matches no disk', edit(/filesystem = "zfs"\nzfs.raid = "raid0"/, 'filesystem = "ext4"').replace('"vda"', '"vdq"'), /disk in 'disk-selection' not found/],
    ['disk filter matches no disk', edit(/disk-list = .*/, 'filter.ID_SERIAL = "*NOPE*"'), /filter did not match any devices/],
    ['ZFS raid1 on one disk', edit('raid0', 'raid1'), /ZFS RAID1 needs at least 2 disks, got 1/],
    ['ZFS raid level missing', edit(/^zfs.raid.*\n/m, ''), /ZFS raid level 'zfs.raid' must be set/],
    ['invalid reboot-mode', edit('power-off', 'halt'), /unknown variant `halt`, expected `reboot` or `power-off`/],
    ['bad cidr', edit('10.99.0.11/24', '10.99.0.11/33'), /invalid IP address/],
    ['duplicate disk', edit(/zfs.raid = "raid0"\ndisk-list = \["vda"\]/, 'zfs.raid = "raid0"\ndisk-list = ["vda", "vda"]'), /List of disks contains duplicate device vda/],
    ['bad mail address', edit('root@lab.example', 'nobody'), /nobody: Email does not look like a valid address/],
  ];
  it.each(cases)('rejects %s with the upstream message', (_name, toml, msg) => {
    const r = validate('9.2', toml);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(msg);
    expect(r.out).not.toMatch(/^INFO: Selected disk/m);
  });

  it('uses the RAID wording of the release', () => {
    const t = BASE.replace('raid0', 'raid10');
    expect(validate('9.2', t).out).toContain('ZFS RAID10 needs at least 4 disks, got 1');
    expect(validate('9.1', t).out).toContain('ZFS (RAID10): need at least 4 disks');
    expect(validate('8.4', t).out).toContain('zfs (RAID10): need at least 4 devices');
  });

  it('writes the resolved config and keeps secrets out of stdout', () => {
    const out = join(tmp, 'cfg');
    const r = validate('9.2', BASE, [...HW, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('12345678');
    const cfg = readFileSync(join(out, 'config'), 'utf8');
    expect(cfg).toContain("FQDN='pve1.lab.example'");
    expect(cfg).toContain("NIC_MAC='52:54:00:00:00:11'");
    expect(cfg).toContain("DISKS='vda'");
    expect(cfg).toContain("REBOOT_MODE='power-off'");
    expect(readFileSync(join(out, 'root-password'), 'utf8')).toBe('12345678');
    expect(statSync(join(out, 'root-password')).mode & 0o077).toBe(0);
    expect(readFileSync(join(out, 'root-ssh-keys'), 'utf8').trim()).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB test');
  });

  it('fqdn from DHCP needs a DHCP hostname (8.4+ only)', () => {
    const t = readFileSync(join(FIXTURES, 'answer-fqdn-from-dhcp.toml'), 'utf8');
    const noDhcp = HW.slice(0, HW.indexOf('--dhcp-hostname'));
    expect(validate('9.2', t, noDhcp).out).toContain('`global.fqdn.source` set to "from-dhcp", but DHCP server did not provide a hostname!');
    expect(validate('8.3', t.replace('root-password', 'root_password')).out).toMatch(/invalid type: map, expected a string/);
  });

  it('rejects TOML syntax errors as parse errors', () => {
    const r = validate('9.2', BASE.replace('keyboard = "en-us"', 'keyboard = "en-us'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/TOML parse error at line 2/);
  });
});
