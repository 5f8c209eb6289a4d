// apt-get inside a container (apt 2.6 wording, non-interactive output: no progress bars, "Reading
// package lists..." without "Done"). The mirror is reachable when the lab is online, the node's
// link is up and the CT has a routed network (net0 with gw or dhcp); otherwise every fetch fails
// "Temporary failure resolving '<host>'". As upstream (apt-pkg/update.cc AcquireUpdate,
// apt-private/private-main.cc): `update` only WARNs about transient network failures and exits 0
// (exit 100 with --error-on=any); `install` exits 100 when a package is unknown ("Unable to locate
// package", also when no lists were ever fetched) or its .debs cannot be fetched.
import { parseNet } from './ct-create.js';
import type { CtProc } from './ct-exec.js';
import { APACHE_DEFAULT_PAGE, MIRROR, type Pkg, dpkgStanza, parseOsRelease, sources } from './debian.js';
import { DOCROOT, DPKG_STATUS, installed, mkdirs, put } from './rootfs.js';

const LISTS = '/var/lib/apt/lists';
const RECOMMENDS: Record<string, string[]> = { apache2: ['ssl-cert'] };
const SUGGESTS: Record<string, string> = { apache2: 'apache2-doc apache2-suexec-pristine | apache2-suexec-custom www-browser' };
const SSL_CERT: Pkg = { name: 'ssl-cert', version: '1.1.2', section: 'utils', priority: 'optional', arch: 'all', size: 63, depends: [] };

function mirrorFailure(p: CtProc, host: string): string | undefined {
  const net = p.g.conf.net0 ? parseNet(p.g.conf.net0) : undefined;
  const routed = !!net && (!!net.gw || net.ip === 'dhcp');
  return p.m.internet && p.m.node(p.node).linked && routed ? undefined : `Temporary failure resolving '${host}'`;
}

const kB = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} MB` : `${n} kB`);

/** "  a b c" lines wrapped at 80 columns, as apt lists package names */
function wrap(names: string[]): string {
  const lines: string[] = [];
  let cur = ' ';
  for (const n of names) {
    if (cur.length + 1 + n.length > 79 && cur.trim()) (lines.push(cur), (cur = ' '));
    cur += ` ${n}`;
  }
  lines.push(cur);
  return `${lines.join('\n')}\n`;
}

export async function aptGet(p: CtProc, args: string[]): Promise<number> {
  const opts = new Set<string>();
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-o' || a === '-c' || a === '-t') i++;
    else if (a.startsWith('-')) opts.add(a);
    else words.push(a);
  }
  const [op, ...pkgs] = words;
  const os = parseOsRelease(p.fs.files.get('/etc/os-release'));
  const srcs = sources(os.id, os.codename);
  if (op === 'update') return update(p, srcs, opts.has('--error-on=any'));
  if (op === 'install') return install(p, srcs, pkgs, opts);
  if (op === undefined) {
    p.err('E: No operation specified\n');
    return 100;
  }
  p.err(`E: Invalid operation ${op}\n`);
  return 100;
}

async function update(p: CtProc, srcs: ReturnType<typeof sources>, errorOnAny: boolean): Promise<number> {
  await p.m.clock.sleep(p.m.t.aptUpdate);
  const had = [...p.fs.files.keys()].some((f) => f.startsWith(`${LISTS}/`));
  const fails: string[] = [];
  srcs.forEach((s, i) => {
    const why = mirrorFailure(p, s.host);
    if (why) {
      p.out(`Err:${i + 1} ${s.uri} ${s.suite} InRelease\n  ${why}\n`);
      fails.push(`Failed to fetch ${s.uri}/dists/${s.suite}/InRelease  ${why}`);
    } else p.out(`${had ? 'Hit' : 'Get'}:${i + 1} ${s.uri} ${s.suite} InRelease${had ? '' : ` [${[151, 55.4, 48][i] ?? 50} kB]`}\n`);
  });
  if (!fails.length) {
    if (!had) p.out(`Get:${srcs.length + 1} ${srcs[0]!.uri} ${srcs[0]!.suite}/main amd64 Packages [8793 kB]\nFetched 9048 kB in 2s (4512 kB/s)\n`);
    srcs.forEach((s, i) => {
      const base = `${LISTS}/${s.uri.replace(/^http:\/\//, '').replace(/\//g, '_')}_dists_${s.suite}`;
      put(p.fs, `${base}_InRelease`, `Suite: ${s.suite}\n`);
      put(p.fs, `${base}_main_binary-amd64_Packages`, i ? '' : MIRROR.map((x) => `Package: ${x.name}\nVersion: ${x.version}\n\n`).join(''));
    });
  }
  p.out('Reading package lists...\n');
  const tag = errorOnAny ? 'E' : 'W';
  for (const f of fails) p.err(`${tag}: ${f}\n`);
  if (fails.length) p.err(`${tag}: Some index files failed to download. They have been ignored, or old ones used instead.\n`);
  return fails.length && errorOnAny ? 100 : 0;
}

async function install(p: CtProc, srcs: ReturnType<typeof sources>, want: string[], opts: Set<string>): Promise<number> {
  p.out('Reading package lists...\nBuilding dependency tree...\nReading state information...\n');
  const known = new Map([...MIRROR, SSL_CERT].map((x) => [x.name, x]));
  const listed = [...p.fs.files.keys()].some((f) => f.startsWith(`${LISTS}/`) && f.endsWith('_Packages'));
  const missing = want.filter((n) => !listed || !known.has(n));
  if (missing.length) {
    for (const n of missing) p.err(`E: Unable to locate package ${n}\n`);
    return 100;
  }
  const have = installed(p.fs);
  const plan: Pkg[] = [];
  const seen = new Set<string>();
  const add = (n: string) => {
    if (seen.has(n) || have.has(n)) return;
    seen.add(n);
    const pkg = known.get(n);
    if (!pkg) return;
    for (const d of pkg.depends) add(d);
    if (!opts.has('--no-install-recommends')) for (const r of RECOMMENDS[n] ?? []) add(r);
    plan.push(pkg);
  };
  for (const n of want) add(n);
  for (const n of want.filter((x) => have.has(x))) p.out(`${n} is already the newest version (${have.get(n)!.Version}).\n`);
  const byName = [...plan].sort((a, b) => (a.name < b.name ? -1 : 1));
  const extra = byName.filter((x) => !want.includes(x.name));
  if (extra.length) p.out(`The following additional packages will be installed:\n${wrap(extra.map((x) => x.name))}`);
  const sugg = want.map((n) => SUGGESTS[n]).filter(Boolean);
  if (plan.length && sugg.length) p.out(`Suggested packages:\n${wrap(sugg as string[])}`);
  const recs = opts.has('--no-install-recommends') ? want.flatMap((n) => RECOMMENDS[n] ?? []).filter((r) => !have.has(r)) : [];
  if (plan.length && recs.length) p.out(`Recommended packages:\n${wrap(recs)}`);
  if (plan.length) p.out(`The following NEW packages will be installed:\n${wrap(byName.map((x) => x.name))}`);
  p.out(`0 upgraded, ${plan.length} newly installed, 0 to remove and 0 not upgraded.\n`);
  if (!plan.length) return 0;
  const debKb = plan.map((x) => Math.max(1, Math.round(x.size / 3)));
  const total = debKb.reduce((a, b) => a + b, 0);
  p.out(`Need to get ${kB(total)} of archives.\nAfter this operation, ${kB(plan.reduce((a, x) => a + x.size, 0))} of additional disk space will be used.\n`);
  const yes = [...opts].some((o) => o === '--yes' || o === '--assume-yes' || /^-[a-zA-Z]*y/.test(o));
  if (extra.length && !yes) {
    p.out('Do you want to continue? [Y/n] ');
    const answer = await p.readLine();
    if (answer === null || !/^(y|yes|)$/i.test(answer.trim())) {
      p.out('Abort.\n');
      return 1;
    }
  }
  const src = srcs[0]!;
  const why = mirrorFailure(p, src.host);
  await p.m.clock.sleep(why ? p.m.t.aptUpdate : p.m.t.aptInstall);
  const deb = (x: Pkg) => `${src.uri}/pool/main/${x.name.startsWith('lib') ? x.name.slice(0, 4) : x.name[0]}/${x.name}/${x.name}_${x.version.replace(/^\d+:/, '')}_${x.arch}.deb`;
  if (why) {
    plan.forEach((x, i) => p.out(`Err:${i + 1} ${src.uri} ${src.suite}/main amd64 ${x.name} ${x.arch} ${x.version}\n  ${why}\n`));
    for (const x of plan) p.err(`E: Failed to fetch ${deb(x)}  ${why}\n`);
    p.err('E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?\n');
    return 100;
  }
  plan.forEach((x, i) => p.out(`Get:${i + 1} ${src.uri} ${src.suite}/main amd64 ${x.name} ${x.arch} ${x.version} [${debKb[i]} kB]\n`));
  p.out(`Fetched ${kB(total)} in 1s (${kB(total)}/s)\n`);
  // dpkg names Multi-Arch: same packages (the libraries here) with their architecture
  const q = (x: Pkg) => (x.section === 'libs' ? `${x.name}:${x.arch}` : x.name);
  plan.forEach((x, i) => {
    p.out(`Selecting previously unselected package ${q(x)}.\n`);
    if (i === 0) p.out(`(Reading database ... ${p.fs.files.size + p.fs.dirs.size} files and directories currently installed.)\n`);
    p.out(`Preparing to unpack .../${String(i).padStart(2, '0')}-${x.name}_${x.version.replace(/^\d+:/, '')}_${x.arch}.deb ...\nUnpacking ${q(x)} (${x.version}) ...\n`);
  });
  for (const x of plan) {
    p.out(`Setting up ${q(x)} (${x.version}) ...\n`);
    p.fs.files.set(DPKG_STATUS, (p.fs.files.get(DPKG_STATUS) ?? '') + dpkgStanza(x));
    if (x.name === 'apache2') {
      // apache2.postinst: default modules/site, the default page when none exists, service enabled + started
      mkdirs(p.fs, '/etc/apache2/sites-enabled');
      put(p.fs, '/etc/apache2/ports.conf', 'Listen 80\n\n<IfModule ssl_module>\n\tListen 443\n</IfModule>\n');
      if (!p.fs.files.has(`${DOCROOT}/index.html`)) put(p.fs, `${DOCROOT}/index.html`, APACHE_DEFAULT_PAGE);
      p.out('Enabling module mpm_event.\nEnabling module authz_core.\nEnabling module authz_host.\nEnabling module authn_core.\nEnabling module auth_basic.\nEnabling module access_compat.\nEnabling module authn_file.\nEnabling module authz_user.\nEnabling module alias.\nEnabling module dir.\nEnabling module autoindex.\nEnabling module env.\nEnabling module mime.\nEnabling module negotiation.\nEnabling module setenvif.\nEnabling module filter.\nEnabling module deflate.\nEnabling module status.\nEnabling module reqtimeout.\nEnabling conf charset.\nEnabling conf localized-error-pages.\nEnabling conf other-vhosts-access-log.\nEnabling conf security.\nEnabling conf serve-cgi-bin.\nEnabling site 000-default.\n');
      p.out('Created symlink /etc/systemd/system/multi-user.target.wants/apache2.service → /lib/systemd/system/apache2.service.\n');
      p.out('Created symlink /etc/systemd/system/multi-user.target.wants/apache-htcacheclean.service → /lib/systemd/system/apache-htcacheclean.service.\n');
    }
  }
  p.out(`Processing triggers for libc-bin (${installed(p.fs).get('libc6')?.Version ?? '2.36-9+deb12u14'}) ...\n`);
  return 0;
}
