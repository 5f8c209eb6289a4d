// A scripted model of three Proxmox nodes for the step tests (not a test file): it answers exactly the
// commands the pve steps send, in the formats of the fixtures, and changes its state the way Proxmox
// would (cluster membership, storage.cfg, pools, the container, HA config). Unknown commands fail.
import { writeFileSync } from 'node:fs';
import type { LabNames } from '../../lab/config/names.js';
import { CHAP_CHECK_SCRIPT, CHAP_FIX_SCRIPT, FIX_HOSTS_SCRIPT, REPOS_CHECK_SCRIPT, REPOS_FIX_SCRIPT } from '../../lab/pve/node.js';
import { FakeNodes, jsonFixture } from './pve-fixtures.js';

type Obj = Record<string, unknown>;
const FP = '80:EC:8B:A3:1F:B0:41:C6:F3:5C:E2:7A:47:6C:66:EE:12:DD:B9:EF:CE:0D:43:85:6A:70:A6:92:A7:DA:0F:27';

export interface WorldNode {
  name: string;
  ip: string;
  major: number;
  hostsOk: boolean;
  reposOk: boolean;
  iscsi: boolean;
  cluster?: string;
  pool: boolean;
}

/** Flags of an argv ("--k v") as an object; positional args in `_`. */
export function flags(argv: readonly string[]): Obj & { _: string[] } {
  const out: Obj & { _: string[] } = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) out[a.slice(2)] = argv[++i];
    else out._.push(a);
  }
  return out;
}

export class PveWorld extends FakeNodes {
  nodes: WorldNode[];
  clusterName?: string;
  members: string[] = [];
  storages: Obj[] = [];
  templates: string[] = [];
  guest?: { node: string; status: string; config: Obj; apache: boolean; page: string };
  haResources: Obj[] = [];
  haGroups: Obj[] = [];
  haRules: Obj[] = [];
  jobs: Obj[] = [];
  rootPassword = '';

  constructor(readonly n: LabNames, major: number, opts: { apacheInTemplate?: boolean } = {}) {
    super();
    this.nodes = n.nodes.map((x, i) => ({ name: x.name, ip: x.ip, major, hostsOk: i !== 1, reposOk: false, iscsi: false, pool: false }));
    this.on((node, argv, o) => this.answer(node, argv, o.input, opts.apacheInTemplate ?? false) as object | string | undefined);
  }

  private node(name: string): WorldNode {
    return this.nodes.find((x) => x.name === name)!;
  }

  private clusterStatus(node: string): unknown {
    const me = this.node(node);
    if (!me.cluster) return [{ id: `node/${node}`, ip: me.ip, level: '', local: 1, name: node, nodeid: 0, online: 1, type: 'node' }];
    if (me.cluster !== this.clusterName)
      return [{ id: 'cluster', name: me.cluster, nodes: 1, quorate: 1, type: 'cluster', version: 1 }, { id: `node/${node}`, ip: me.ip, level: '', local: 1, name: node, nodeid: 1, online: 1, type: 'node' }];
    return [
      { id: 'cluster', name: this.clusterName, nodes: this.members.length, quorate: 1, type: 'cluster', version: this.members.length },
      ...this.members.map((m, i) => ({ id: `node/${m}`, ip: this.node(m).ip, level: '', local: m === node ? 1 : 0, name: m, nodeid: i + 1, online: 1, type: 'node' })),
    ];
  }

  // eslint-disable-next-line complexity
  private answer(node: string, argv: string[], input: string | undefined, apacheInTemplate: boolean): unknown {
    const me = this.node(node);
    const [cmd, sub] = argv;
    const f = flags(argv);
    const n = this.n;
    if (cmd === 'hostname') return `${node}\n`;
    if (cmd === 'pveversion') return `pve-manager/${me.major}.${me.major === 8 ? '4.1' : '1.2'}/abcdef0123456789 (running kernel: 6.8.12-4-pve)\n`;
    if (cmd === 'getent') return me.hostsOk ? `${me.ip}     ${argv[2]}.${'pvelab.internal'} ${argv[2]}\n` : { exitCode: 2 };
    if (cmd === 'sh' && argv[2] === REPOS_CHECK_SCRIPT) return me.reposOk ? '' : { stdout: 'enterprise /etc/apt/sources.list.d/pve-enterprise.sources\nno-subscription missing\n', exitCode: 1 };
    if (cmd === 'sh' && argv[2] === REPOS_FIX_SCRIPT) return (me.reposOk = true), '';
    if (cmd === 'sh' && argv[2] === FIX_HOSTS_SCRIPT) return (me.hostsOk = argv[6] === me.ip), '';
    if (cmd === 'sh' && (argv[2] === CHAP_CHECK_SCRIPT || argv[2] === CHAP_FIX_SCRIPT)) return { exitCode: 1 };
    if (cmd === 'dpkg-query') return me.iscsi ? 'install ok installed' : { stdout: '', stderr: "dpkg-query: no packages found matching open-iscsi\n", exitCode: 1 };
    if (cmd === 'apt-get' && sub === 'update') return 'Reading package lists...\n';
    if (cmd === 'env' && argv.includes('open-iscsi')) return (me.iscsi = true), 'Setting up open-iscsi\n';
    if (cmd === 'pvecm' && sub === 'create') {
      this.clusterName = argv[2];
      this.members = [node];
      me.cluster = argv[2];
      return 'Writing corosync config to /etc/pve/corosync.conf\nRestart corosync and cluster filesystem\n';
    }
    if (cmd === 'pvecm' && sub === 'add') {
      if (me.cluster) return { stderr: "detected the following error(s):\n* authentication key '/etc/corosync/authkey' already exists\n", exitCode: 255 };
      if (input !== `${this.rootPassword}\n` || f['fingerprint'] !== FP || f['link0'] !== me.ip) return { stderr: '401 permission denied - invalid PVE ticket\n', exitCode: 255 };
      this.members.push(node);
      me.cluster = this.clusterName!;
      return `successfully added node '${node}' to cluster.\n`;
    }
    if (cmd === 'pvesh') return this.pvesh(node, argv, f);
    if (cmd === 'pveam' && sub === 'update') return 'update successful\n';
    if (cmd === 'pveam' && sub === 'available') return 'system          debian-12-standard_12.2-1_amd64.tar.zst   amd64\nsystem          debian-12-standard_12.7-1_amd64.tar.zst   amd64\n';
    if (cmd === 'pveam' && sub === 'download') return this.templates.push(argv[3]!), 'download finished\n';
    if (cmd === 'pct' && sub === 'create') {
      const file = argv[3]!.replace('local:vztmpl/', '');
      this.guest = { node, status: 'stopped', apache: apacheInTemplate && file.startsWith('pvelab-apache_'), page: '', config: { hostname: f['hostname'], net0: f['net0'], rootfs: `${String(f['rootfs']).split(':')[0]}:vm-${argv[2]}-disk-0,size=${String(f['rootfs']).split(':')[1]}G` } };
      return '';
    }
    if (cmd === 'pct' && sub === 'start') return (this.guest!.status = 'running'), '';
    if (cmd === 'pct' && sub === 'exec') {
      const inner = argv.slice(argv.indexOf('--') + 1);
      const g = this.guest!;
      if (inner[0] === 'true') return '';
      if (inner[0] === 'dpkg-query') return g.apache ? 'install ok installed' : { exitCode: 1 };
      if (inner[0] === 'apt-get') return 'ok\n';
      if (inner[0] === 'env' && inner.includes('apache2')) return (g.apache = true), 'Setting up apache2\n';
      if (inner[0] === 'tee') return (g.page = input ?? ''), input ?? '';
      if (inner[0] === 'cat') return g.page ? g.page : { exitCode: 1, stderr: 'cat: /var/www/html/index.html: No such file or directory\n' };
    }
    if (cmd === 'rm' || cmd === 'vzdump' || cmd === 'mkdir') return '';
    if (cmd === 'ls') return `vzdump-lxc-${n.guest.vmid}-2026_01_01-00_00_00.log\nvzdump-lxc-${n.guest.vmid}-2026_01_01-00_00_00.tar.zst\n`;
    if (cmd === 'ha-manager') return this.ha(argv, f);
    if (cmd === 'pvesr') return this.jobs.push({ id: argv[2], guest: Number(argv[2]!.split('-')[0]), target: argv[3], schedule: f['schedule'], type: 'local' }), '';
    return undefined;
  }

  private pvesh(node: string, argv: string[], f: Obj): unknown {
    const [, verb, path] = argv;
    const g = this.guest;
    const n = this.n;
    if (verb === 'get' && path === '/cluster/status') return this.clusterStatus(node);
    if (verb === 'get' && path === '/cluster/config/join') return this.node(node).cluster ? { nodelist: [{ name: this.members[0], nodeid: '1', pve_addr: this.node(this.members[0]!).ip, pve_fp: FP }], preferred_node: this.members[0] } : { stderr: 'node is not in a cluster, no join info available!\n', exitCode: 255 };
    if (verb === 'get' && path === '/storage') return this.storages;
    if (verb === 'create' && path === '/storage') {
      const { _, ['output-format']: _o, ...props } = f;
      this.storages.push(props);
      return '';
    }
    if (verb === 'get' && path === `/nodes/${node}/storage`) return this.storages.map((s) => ({ storage: s['storage'], type: s['type'], active: 1, enabled: 1 }));
    if (verb === 'get' && path === `/nodes/${node}/storage/${n.pve.storageIscsi}/content`) return [{ volid: `${n.pve.storageIscsi}:0.0.1.scsi-360000000000000000e00000000010001`, size: 137438953472, format: 'raw' }];
    if (verb === 'get' && path === `/nodes/${node}/disks/zfs`) return this.node(node).pool ? [{ name: n.pve.zfsPool, health: 'ONLINE', size: 1, free: 1 }] : [];
    if (verb === 'get' && path === `/nodes/${node}/disks/list`) return jsonFixture('disks-list.json.txt');
    if (verb === 'create' && path === `/nodes/${node}/disks/zfs`) return (this.node(node).pool = f['devices'] === '/dev/vdb'), `"UPID:${node}:0001:zfscreate"`;
    if (verb === 'get' && path === `/nodes/${node}/storage/local/content`) return this.templates.map((t) => ({ volid: `local:vztmpl/${t}`, content: 'vztmpl', format: 'tzst' }));
    if (verb === 'get' && path === '/cluster/resources') return g ? [{ id: `lxc/${n.guest.vmid}`, vmid: n.guest.vmid, node: g.node, type: 'lxc', status: g.status, name: g.config['hostname'] }] : [];
    if (verb === 'get' && g && path === `/nodes/${g.node}/lxc/${n.guest.vmid}/config`) return g.config;
    if (verb === 'get' && path === '/cluster/ha/resources') return this.haResources;
    if (verb === 'get' && path === '/cluster/ha/groups') return this.haGroups;
    if (verb === 'get' && path === '/cluster/ha/rules') return this.haRules;
    if (verb === 'get' && path === '/cluster/replication') return this.jobs;
    return undefined;
  }

  private ha(argv: string[], f: Obj): unknown {
    const sub = argv[1];
    if (sub === 'status') {
      const r = this.haResources[0];
      return `quorum OK\nmaster pve1 (active, Thu Jan  1 00:00:00 2026)\n${r && this.guest ? `service ${String(r['sid'])} (${this.guest.node}, ${this.guest.status === 'running' ? 'started' : 'starting'})\n` : ''}`;
    }
    if (sub === 'groupadd') {
      if (this.nodes[0]!.major >= 9) return { stderr: 'cannot create group: ha groups have been migrated to rules\n', exitCode: 255 };
      return this.haGroups.push({ group: argv[2], nodes: f['nodes'], type: 'group' }), '';
    }
    if (sub === 'add') {
      if (f['group'] && !this.haGroups.some((x) => x['group'] === f['group'])) return { stderr: `group '${String(f['group'])}' does not exist\n`, exitCode: 255 };
      this.haResources.push({ sid: argv[2], state: f['state'], ...(f['group'] ? { group: f['group'] } : {}), type: 'ct' });
      if (this.guest) this.guest.status = 'running';
      return '';
    }
    if (sub === 'rules' && argv[2] === 'add') {
      if (this.nodes[0]!.major < 9) return { stderr: "400 unknown command 'ha-manager rules'\n", exitCode: 255 };
      return this.haRules.push({ rule: argv[4], type: argv[3], resources: f['resources'], nodes: String(f['nodes']).split(',').sort().join(',') }), '';
    }
    return undefined;
  }

  /** pve3 was reinstalled and joined some other cluster. */
  node3Cluster(name: string): void {
    this.nodes[2]!.cluster = name;
  }

  uploadHook?: (remote: string) => void;
  override async upload(node: string, local: string, remote: string, mode?: number): Promise<void> {
    await super.upload(node, local, remote, mode);
    this.uploadHook?.(remote);
  }

  override async download(node: string, remote: string, local: string): Promise<void> {
    await super.download(node, remote, local);
    writeFileSync(local, 'vzdump archive');
  }
}
