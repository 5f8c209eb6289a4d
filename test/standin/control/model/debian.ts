// What a container's distribution looks like to the commands the stand-in answers inside it: the
// standard template's rootfs per template name (os-release, apt sources, dpkg status of a
// representative subset of the base system), the apt mirror hosts, and the package catalogue the
// modelled mirror offers. Versions are Debian 12 (bookworm) ones as dpkg reports them on a current
// bookworm system; other releases reuse that set (UNVERIFIED per release). Not modelled: the real
// ~250 packages of a standard template, upgrades, recommends.

export interface Pkg {
  name: string;
  version: string;
  section: string;
  priority: string;
  arch: string;
  size: number; // Installed-Size (KiB)
  depends: string[];
}

const P = (name: string, version: string, section: string, priority: string, size: number, depends: string[] = [], arch = 'amd64'): Pkg => ({ name, version, section, priority, arch, size, depends });

/** the base system of a standard template (subset) */
export const BASE: Pkg[] = [
  P('apt', '2.6.1', 'admin', 'required', 4232),
  P('base-files', '12.4+deb12u11', 'admin', 'required', 341),
  P('bash', '5.2.15-2+b8', 'shells', 'required', 7164),
  P('ca-certificates', '20230311+deb12u1', 'misc', 'standard', 387, [], 'all'),
  P('coreutils', '9.1-1', 'utils', 'required', 18062),
  P('dpkg', '1.21.22', 'admin', 'required', 6409),
  P('init-system-helpers', '1.65.2', 'admin', 'required', 140, [], 'all'),
  P('iproute2', '6.1.0-3', 'net', 'important', 3516),
  P('libc6', '2.36-9+deb12u14', 'libs', 'optional', 13001),
  P('libcrypt1', '1:4.4.33-2', 'libs', 'optional', 233),
  P('libpcre2-8-0', '10.42-1', 'libs', 'optional', 685),
  P('libssl3', '3.0.19-1~deb12u2', 'libs', 'optional', 6029),
  P('openssh-server', '1:9.2p1-2+deb12u10', 'net', 'optional', 1930),
  P('perl-base', '5.36.0-7+deb12u4', 'perl', 'required', 7643),
  P('procps', '2:4.0.2-3', 'admin', 'important', 2091),
  P('systemd', '252.39-1~deb12u2', 'admin', 'important', 9668),
  P('zlib1g', '1:1.2.13.dfsg-1', 'libs', 'optional', 168),
];

/** packages the modelled mirror offers beyond the base (apache2 and its dependency closure, --no-install-recommends) */
export const MIRROR: Pkg[] = [
  ...BASE,
  P('apache2', '2.4.71-1~deb12u1', 'httpd', 'optional', 588, ['apache2-bin', 'apache2-data', 'apache2-utils', 'media-types', 'perl-base', 'procps', 'init-system-helpers']),
  P('apache2-bin', '2.4.71-1~deb12u1', 'httpd', 'optional', 5144, ['libapr1', 'libaprutil1', 'libaprutil1-dbd-sqlite3', 'libaprutil1-ldap', 'libbrotli1', 'libcurl4', 'libjansson4', 'liblua5.3-0', 'libnghttp2-14', 'libxml2', 'libssl3', 'libpcre2-8-0', 'zlib1g']),
  P('apache2-data', '2.4.71-1~deb12u1', 'httpd', 'optional', 847, [], 'all'),
  P('apache2-utils', '2.4.71-1~deb12u1', 'httpd', 'optional', 452, ['libapr1', 'libaprutil1']),
  P('libapr1', '1.7.2-3+deb12u1', 'libs', 'optional', 288),
  P('libaprutil1', '1.6.3-1+deb12u1', 'libs', 'optional', 284, ['libapr1']),
  P('libaprutil1-dbd-sqlite3', '1.6.3-1+deb12u1', 'libs', 'optional', 48, ['libaprutil1']),
  P('libaprutil1-ldap', '1.6.3-1+deb12u1', 'libs', 'optional', 40, ['libaprutil1', 'libldap-2.5-0']),
  P('libbrotli1', '1.0.9-2+b6', 'libs', 'optional', 783),
  P('libcurl4', '7.88.1-10+deb12u15', 'libs', 'optional', 840, ['libnghttp2-14', 'libldap-2.5-0']),
  P('libjansson4', '2.14-2', 'libs', 'optional', 101),
  P('libldap-2.5-0', '2.5.13+dfsg-5', 'libs', 'optional', 553, ['libsasl2-2']),
  P('liblua5.3-0', '5.3.6-2', 'libs', 'optional', 495),
  P('libnghttp2-14', '1.52.0-1+deb12u2', 'libs', 'optional', 220),
  P('libsasl2-2', '2.1.28+dfsg-10', 'libs', 'optional', 167),
  P('libxml2', '2.9.14+dfsg-1.3~deb12u5', 'libs', 'optional', 1867),
  P('media-types', '10.0.0', 'net', 'standard', 92, [], 'all'),
];

export interface OsInfo {
  id: string; // debian | ubuntu | alpine
  version: string; // VERSION_ID
  codename: string;
  pretty: string;
  apt: boolean;
}

/** distribution of a template file name ("debian-12-standard_12.7-1_amd64.tar.zst") */
export function osOfTemplate(file: string): OsInfo {
  const m = /^(debian|ubuntu|alpine)-([\d.]+)-/.exec(file);
  const id = m?.[1] ?? 'debian';
  const ver = m?.[2] ?? '12';
  if (id === 'alpine') return { id, version: ver, codename: '', pretty: `Alpine Linux v${ver}`, apt: false };
  if (id === 'ubuntu') {
    const codename = ({ '24.04': 'noble', '22.04': 'jammy' } as Record<string, string>)[ver] ?? 'noble';
    return { id, version: ver, codename, pretty: `Ubuntu ${ver} LTS`, apt: true };
  }
  const codename = ({ '11': 'bullseye', '12': 'bookworm', '13': 'trixie' } as Record<string, string>)[ver] ?? 'bookworm';
  return { id, version: ver, codename, pretty: `Debian GNU/Linux ${ver} (${codename})`, apt: true };
}

export function osRelease(os: OsInfo): string {
  if (os.id === 'alpine') return `NAME="Alpine Linux"\nID=alpine\nVERSION_ID=${os.version}\nPRETTY_NAME="${os.pretty}"\n`;
  const name = os.id === 'ubuntu' ? 'Ubuntu' : 'Debian GNU/Linux';
  return `PRETTY_NAME="${os.pretty}"\nNAME="${name}"\nVERSION_ID="${os.version}"\nVERSION="${os.version} (${os.codename})"\nVERSION_CODENAME=${os.codename}\nID=${os.id}\n`;
}

export function parseOsRelease(text: string | undefined): { id: string; codename: string } {
  const v = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(text ?? '')?.[1] ?? '';
  return { id: v('ID'), codename: v('VERSION_CODENAME') };
}

export interface Source {
  host: string;
  uri: string; // http://deb.debian.org/debian
  suite: string;
}

/** the three suites of a standard template's sources.list (Proxmox debian-NN-standard templates) */
export function sources(id: string, codename: string): Source[] {
  if (id === 'ubuntu') return ['', '-updates', '-security'].map((s) => ({ host: 'archive.ubuntu.com', uri: 'http://archive.ubuntu.com/ubuntu', suite: `${codename}${s}` }));
  return [
    { host: 'deb.debian.org', uri: 'http://deb.debian.org/debian', suite: codename },
    { host: 'deb.debian.org', uri: 'http://deb.debian.org/debian', suite: `${codename}-updates` },
    { host: 'security.debian.org', uri: 'http://security.debian.org', suite: `${codename}-security` },
  ];
}

export function sourcesList(id: string, codename: string): string {
  const comp = id === 'ubuntu' ? 'main restricted universe' : 'main contrib';
  return sources(id, codename).map((s) => `deb ${s.uri} ${s.suite} ${comp}\n`).join('');
}

/** one /var/lib/dpkg/status stanza */
export function dpkgStanza(p: Pkg): string {
  return `Package: ${p.name}\nStatus: install ok installed\nPriority: ${p.priority}\nSection: ${p.section}\nInstalled-Size: ${p.size}\nArchitecture: ${p.arch}\nVersion: ${p.version}\n${p.depends.length ? `Depends: ${p.depends.join(', ')}\n` : ''}\n`;
}

/** installed packages from a dpkg status file: name -> fields */
export function parseDpkgStatus(text: string | undefined): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const stanza of (text ?? '').split(/\n\n+/)) {
    const f: Record<string, string> = {};
    for (const line of stanza.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0 && !line.startsWith(' ')) f[line.slice(0, i)] = line.slice(i + 1).trim();
    }
    if (f.Package && f.Status === 'install ok installed') out.set(f.Package, f);
  }
  return out;
}

/** Debian's default page is installed by apache2's postinst when index.html is absent (abbreviated
 *  here: same title and heading as /usr/share/apache2/default-site/index.html, ~10.7 KB upstream) */
export const APACHE_DEFAULT_PAGE = [
  '<!DOCTYPE html>',
  '<html xmlns="http://www.w3.org/1999/xhtml">',
  '  <head>',
  '    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />',
  '    <title>Apache2 Debian Default Page: It works</title>',
  '  </head>',
  '  <body>',
  '    <div class="page_header">Apache2 Debian Default Page</div>',
  '    <div class="section_header">It works!</div>',
  '    <p>This is the default welcome page used to test the correct operation of the Apache2 server after',
  '    installation on Debian systems. You should replace this file (located at /var/www/html/index.html)',
  '    before continuing to operate your HTTP server.</p>',
  '  </body>',
  '</html>',
  '',
].join('\n');
