// The Debian/Proxmox files the stand-in node carries after an ISO install (test/standin/node/debian.sh,
// run at every boot from the identity block), checked on the host with dash and the node's userland
// (busybox applets plus the Debian tools test/standin/build.sh adds: getent, GNU sed/grep,
// dpkg-query), so a command the node lacks fails here too; the host's real dpkg-query then reads
// the generated /var/lib/dpkg. Facts: pve-installer Install.pm (/etc/hosts),
// pve-manager configs/pve-sources.{sources,list}, pve-docs pve-package-repos.adoc, country.pl mirrors.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = new URL('../standin/node/debian.sh', import.meta.url).pathname;
const DEBS = new URL('../../.cache/standin/debs/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'standin-node-debian-'));

/** the open-iscsi .deb build.sh uses (its cache, else apt-get download) */
function openIscsiDeb(): string | undefined {
  const find = (d: string) => (existsSync(d) ? readdirSync(d).filter((f) => /^open-iscsi_.*\.deb$/.test(f)).map((f) => join(d, f))[0] : undefined);
  const cached = find(DEBS);
  if (cached) return cached;
  spawnSync('apt-get', ['download', '-qq', 'open-iscsi'], { cwd: tmp });
  return find(tmp);
}
const DEB = openIscsiDeb();
/** PATH of a stand-in node: every busybox applet, overlaid with the Debian binaries build.sh copies. */
function nodePath(): string | undefined {
  const bb = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!bb) return undefined;
  const bin = join(tmp, 'node-bin');
  mkdirSync(bin, { recursive: true });
  const applets = spawnSync(bb, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const a of applets) symlinkSync(bb, join(bin, a));
  for (const tool of ['getent', 'sed', 'grep', 'dpkg-query', 'dash']) {
    const real = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (!real) return undefined;
    rmSync(join(bin, tool), { force: true });
    symlinkSync(real, join(bin, tool));
  }
  return bin;
}
const NODE_PATH = nodePath();
const skip = !NODE_PATH ? 'busybox (apt-get install busybox-static) or a Debian tool of the node missing' : !existsSync('/bin/dash') ? 'dash not installed' : !DEB ? 'open-iscsi .deb (apt-get download open-iscsi; run apt-get update)' : spawnSync('dpkg-query', ['--version']).status !== 0 ? 'dpkg-query missing' : '';

function node(identity: Record<string, string>): { root: string; run: () => { code: number | null; err: string }; read: (p: string) => string } {
  const root = mkdtempSync(join(tmp, 'root-'));
  const lib = join(root, 'usr/lib/standin/debian');
  mkdirSync(lib, { recursive: true });
  mkdirSync(join(root, 'etc/standin'), { recursive: true });
  const x = join(tmp, `deb-${Math.random().toString(36).slice(2)}`);
  expect(spawnSync('dpkg-deb', ['-x', DEB!, x]).status).toBe(0);
  writeFileSync(join(lib, 'iscsid.conf'), readFileSync(join(x, 'etc/iscsi/iscsid.conf')));
  writeFileSync(join(lib, 'open-iscsi.control'), spawnSync('dpkg-deb', ['-f', DEB!], { encoding: 'utf8' }).stdout);
  const id = { fqdn: 'pve1.lab.example', hostname: 'pve1', domain: 'lab.example', cidr: '10.99.0.11/24', country: 'us', host_key_ed25519: 'AAAAkey1', ...identity };
  writeFileSync(join(root, 'etc/standin/identity'), `STANDIN-IDENTITY 1\n${Object.entries(id).map(([k, v]) => `${k}=${v}`).join('\n')}\nEND\n`);
  return {
    root,
    run: () => {
      const r = spawnSync('/bin/dash', [SCRIPT], { encoding: 'utf8', env: { PATH: NODE_PATH!, STANDIN_ROOT: root } });
      return { code: r.status, err: r.stderr };
    },
    read: (p) => readFileSync(join(root, p), 'utf8'),
  };
}

const dpkgQuery = (root: string, ...args: string[]) => {
  const r = spawnSync('dpkg-query', [`--admindir=${root}/var/lib/dpkg`, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe.skipIf(!!skip)(`stand-in node Debian files${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('writes /etc/hosts and /etc/hostname exactly as the Proxmox installer does', () => {
    const n = node({ release: '9.2' });
    expect(n.run()).toEqual({ code: 0, err: '' });
    const hosts = n.read('etc/hosts').split('\n');
    expect(hosts.slice(0, 3)).toEqual(['127.0.0.1 localhost.localdomain localhost', '10.99.0.11 pve1.lab.example pve1', '']);
    expect(hosts).toContain('::1     ip6-localhost ip6-loopback');
    expect(n.read('etc/hostname')).toBe('pve1\n');
  });

  it('PVE 9: deb822 sources, enterprise repositories enabled, no sources.list', () => {
    const n = node({ release: '9.2' });
    expect(n.run().code).toBe(0);
    const d = 'etc/apt/sources.list.d';
    expect(readdirSync(join(n.root, d)).sort()).toEqual(['ceph.sources', 'debian.sources', 'pve-enterprise.sources']);
    expect(n.read(`${d}/pve-enterprise.sources`)).toBe('Types: deb\nURIs: https://enterprise.proxmox.com/debian/pve\nSuites: trixie\nComponents: pve-enterprise\nSigned-By: /usr/share/keyrings/proxmox-archive-keyring.gpg\n');
    expect(n.read(`${d}/ceph.sources`)).toContain('URIs: https://enterprise.proxmox.com/debian/ceph-squid\n');
    expect(n.read(`${d}/debian.sources`)).toContain('Suites: trixie-security\n');
    expect(n.read(`${d}/debian.sources`)).not.toMatch(/^Enabled:/m);
    expect(existsSync(join(n.root, 'etc/apt/sources.list'))).toBe(false);
  });

  it('PVE 8: one-line lists, the ISO sources.list with the country mirror', () => {
    const cases: Array<[string, string]> = [['us', 'ftp.us.debian.org'], ['gb', 'ftp.uk.debian.org'], ['at', 'ftp.at.debian.org'], ['lu', 'ftp.debian.org']];
    for (const [country, mirror] of cases) {
      const n = node({ release: '8.3', country });
      expect(n.run().code).toBe(0);
      expect(n.read('etc/apt/sources.list.d/pve-enterprise.list')).toBe('deb https://enterprise.proxmox.com/debian/pve bookworm pve-enterprise\n');
      expect(n.read('etc/apt/sources.list.d/ceph.list')).toBe('deb https://enterprise.proxmox.com/debian/ceph-quincy bookworm enterprise\n');
      expect(n.read('etc/apt/sources.list')).toBe(`deb http://${mirror}/debian bookworm main contrib\n\ndeb http://${mirror}/debian bookworm-updates main contrib\n\n# security updates\ndeb http://security.debian.org bookworm-security main contrib\n`);
    }
  });

  it('open-iscsi is installed: dpkg-query answers as on a node, absent packages exit 1', () => {
    for (const [release, version] of [['9.2', '2.1.11-1'], ['8.4', '']] as const) {
      const n = node({ release });
      expect(n.run().code).toBe(0);
      expect(dpkgQuery(n.root, '-W', '-f=${Status}', 'open-iscsi')).toEqual({ code: 0, out: 'install ok installed', err: '' });
      const v = dpkgQuery(n.root, '-W', 'open-iscsi');
      expect(v.out).toMatch(version ? `open-iscsi\t${version}\n` : /^open-iscsi\t2\.1\.8-1/);
      expect(dpkgQuery(n.root, '-W', '-f=${Status}', 'apache2')).toEqual({ code: 1, out: '', err: 'dpkg-query: no packages found matching apache2\n' });
    }
  });

  it('iscsid.conf is the package file (no CHAP set), the initiator name is stable across boots', () => {
    const n = node({ release: '9.2' });
    expect(n.run().code).toBe(0);
    const conf = n.read('etc/iscsi/iscsid.conf');
    expect(conf).toMatch(/^#node\.session\.auth\.authmethod = CHAP$/m);
    expect(conf).not.toMatch(/^node\.session\.auth\.username/m);
    const name = n.read('etc/iscsi/initiatorname.iscsi');
    expect(name).toMatch(/^InitiatorName=iqn\.1993-08\.org\.debian:01:[0-9a-f]{12}$/m);
    expect(statSync(join(n.root, 'etc/iscsi/initiatorname.iscsi')).mode & 0o777).toBe(0o600);
    expect(n.run().code).toBe(0);
    expect(n.read('etc/iscsi/initiatorname.iscsi')).toBe(name);
  });
});
