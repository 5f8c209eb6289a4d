// Parsers of real Proxmox output formats (fixtures from ../shared/fixtures/pve and test/fixtures/pve-extra).
import { describe, expect, it } from 'vitest';
import { describeClusterStatus, isHealthyCluster, joinFingerprint, parseClusterStatus, parseJoinInfo, parsePvecmStatus } from '../../lab/pve/cluster.js';
import { compareVersions, newestApacheTemplate, newestTemplate, parsePveamAvailable } from '../../lab/pve/guest.js';
import { canonicalNodes, findHaRule, parseHaStatusText } from '../../lab/pve/ha.js';
import { parsePveshError } from '../../lab/pve/pvesh.js';
import { pickZfsDisk } from '../../lab/pve/storage.js';
import { debianSuite, parsePveversion } from '../../lab/pve/version.js';
import { fixture, jsonFixture } from './pve-fixtures.js';

describe('pveversion', () => {
  it('reads major, minor, full version, repoid and kernel of PVE 8 and 9', () => {
    const [v8, v9] = fixture('pveversion.txt').trim().split('\n').map(parsePveversion);
    expect(v8).toEqual({ major: 8, minor: 3, full: '8.3.2', repoid: '3e76eec21c4a14a7', kernel: '6.8.12-6-pve' });
    expect(v9).toMatchObject({ major: 9, minor: 0, full: '9.0.6' });
    expect(debianSuite(v8!.major)).toBe('bookworm');
    expect(debianSuite(v9!.major)).toBe('trixie');
  });
  it('refuses output that is not pveversion', () => {
    expect(() => parsePveversion('bash: pveversion: command not found')).toThrow(/cannot read the Proxmox VE version/);
  });
});

describe('cluster formats', () => {
  it('parses /cluster/status of a 3-node cluster with one node offline', () => {
    const s = parseClusterStatus(jsonFixture('cluster-status-3node.json.txt'));
    expect(s.cluster).toEqual({ name: 'lab', quorate: true, nodes: 3, version: 3 });
    expect(s.nodes.map((n) => [n.name, n.nodeid, n.online, n.local])).toEqual([['pve1', 1, true, true], ['pve2', 2, true, false], ['pve3', 3, false, false]]);
    expect(isHealthyCluster(s, 'lab', ['pve1', 'pve2'])).toBe(true);
    expect(isHealthyCluster(s, 'lab', ['pve1', 'pve2', 'pve3'])).toBe(false);
    expect(isHealthyCluster(s, 'other', ['pve1'])).toBe(false);
    expect(describeClusterStatus(s, ['pve1', 'pve2', 'pve3'])).toBe('lab quorate, 2/3 online (missing: pve3)');
  });
  it('a standalone node has no cluster entry', () => {
    const s = parseClusterStatus(jsonFixture('cluster-status-standalone.json.txt'));
    expect(s.cluster).toBeUndefined();
    expect(s.nodes).toEqual([{ name: 'pve2', nodeid: 0, ip: '10.77.0.12', online: true, local: true }]);
  });
  it('reads the join fingerprint of the first node from /cluster/config/join', () => {
    const info = parseJoinInfo(jsonFixture('cluster-config-join.json.txt'));
    expect(info.preferredNode).toBe('pve1');
    expect(joinFingerprint(info, 'pve1')).toBe('80:EC:8B:A3:1F:B0:41:C6:F3:5C:E2:7A:47:6C:66:EE:12:DD:B9:EF:CE:0D:43:85:6A:70:A6:92:A7:DA:0F:27');
    expect(() => joinFingerprint(info, 'pve2')).toThrow(/no valid certificate fingerprint for pve2/);
  });
  it('parses pvecm status: docs sample (~~~ underlines) and the real transcript (--- underlines)', () => {
    const docs = parsePvecmStatus(fixture('pvecm-status-docs.txt'));
    expect(docs).toMatchObject({ name: 'prod-central', quorate: true, nodes: 4, expectedVotes: 4, totalVotes: 4 });
    expect(docs.members).toHaveLength(4);
    expect(docs.members[1]).toEqual({ nodeid: 2, votes: 1, name: '192.168.15.92', local: true });
    const real = parsePvecmStatus(fixture('pvecm-create-add-transcript-real.txt').split('root@pve02')[0]!);
    expect(real).toMatchObject({ name: 'tejar', quorate: true, nodes: 1, members: [{ nodeid: 1, votes: 1, name: '192.168.18.131', local: true }] });
  });
});

describe('HA formats', () => {
  it('parses both ha-manager status samples', () => {
    const [a, b] = fixture('ha-manager-status-docs.txt').split(/^# ha-manager status$/m).slice(1).map(parseHaStatusText);
    expect(a).toEqual({ quorum: 'OK', master: { node: 'node1', detail: 'active, Wed Nov 23 11:07:23 2016' }, lrms: [{ node: 'elsa', detail: 'active, Wed Nov 23 11:07:19 2016' }], services: [{ sid: 'vm:100', node: 'node1', state: 'started' }] });
    expect(b!.services).toEqual([
      { sid: 'ct:100', node: 'elsa', state: 'stopped' },
      { sid: 'ct:102', node: 'elsa', state: 'started' },
      { sid: 'vm:501', node: 'elsa', state: 'started' },
    ]);
  });
  it('finds the lab rule among the rules of GET /cluster/ha/rules', () => {
    const rules = jsonFixture('ha-rules.json.txt');
    expect(findHaRule(rules, 'lab-ha')).toEqual({ type: 'node-affinity', resources: 'ct:100', nodes: 'pve1:2,pve2:1,pve3:1', disabled: false });
    expect(findHaRule(rules, 'keep-together')?.type).toBe('resource-affinity');
    expect(findHaRule(rules, 'nope')).toBeUndefined();
    expect(canonicalNodes('pve3:1, pve1:2,pve2:1')).toBe('pve1:2,pve2:1,pve3:1');
  });
});

describe('templates', () => {
  it('parses pveam available in the 2-column (docs) and 3-column (current) forms', () => {
    const docs = parsePveamAvailable(fixture('pveam-available-docs.txt'));
    expect(docs).toHaveLength(18);
    expect(docs[6]).toEqual({ section: 'system', template: 'debian-9.0-standard_9.7-1_amd64.tar.gz' });
    const cur = parsePveamAvailable(fixture('pveam-available-new.txt'));
    expect(cur[2]).toEqual({ section: 'system', template: 'debian-12-standard_12.7-1_amd64.tar.zst', arch: 'amd64' });
  });
  it('picks the newest template of a prefix (version order, not text order)', () => {
    const cur = parsePveamAvailable(fixture('pveam-available-new.txt')).map((t) => t.template);
    expect(newestTemplate(cur, 'debian-12-standard')).toBe('debian-12-standard_12.7-1_amd64.tar.zst');
    expect(newestTemplate(cur, 'debian-13-standard')).toBe('debian-13-standard_13.1-2_amd64.tar.zst');
    expect(newestTemplate(parsePveamAvailable(fixture('pveam-available-docs.txt')).map((t) => t.template), 'debian-10-standard')).toBe('debian-10-standard_10.7-1_amd64.tar.gz');
    expect(newestTemplate(cur, 'debian-1')).toBeUndefined();
    expect(compareVersions('debian-12-standard_12.10-1', 'debian-12-standard_12.9-1')).toBeGreaterThan(0);
    expect(newestApacheTemplate(['pvelab-apache_debian-12-standard_12.2-1_amd64.tar.zst', 'pvelab-apache_debian-12-standard_12.7-1_amd64.tar.zst', 'x.tar.zst'], 'debian-12-standard')).toBe('pvelab-apache_debian-12-standard_12.7-1_amd64.tar.zst');
  });
});

describe('storage formats', () => {
  it('picks the empty data disk of the right size from /nodes/<n>/disks/list', () => {
    const disks = jsonFixture('disks-list.json.txt');
    expect(pickZfsDisk(disks, 16 * 1024 ** 3)).toBe('/dev/vdb');
    expect(() => pickZfsDisk(disks, 32 * 1024 ** 3)).toThrow(/cannot tell which disk is the ZFS data disk.*\/dev\/vda 34359738368 B used by BIOS boot/);
  });
});

describe('pvesh errors', () => {
  const cases = fixture('pvesh-errors.txt').split('----\n');
  it('keeps the code and parameter errors, drops usage lines', () => {
    expect(parsePveshError(cases[0]!)).toEqual({ status: 400, message: "Parameter verification failed.; storage: storage ID 'lab-san' already defined" });
  });
  it('reads plain die messages', () => {
    expect(parsePveshError(cases[1]!)).toEqual({ message: "create storage failed: storage ID 'lab-san' already defined" });
    expect(parsePveshError(cases[2]!)).toEqual({ message: "storage 'lab-zfs' does not exist" });
    expect(parsePveshError(cases[3]!)).toEqual({ message: "No 'get' handler defined for '/nodes/pve1/bogus'" });
    expect(parsePveshError(cases[4]!)).toEqual({ message: 'node is not in a cluster, no join info available!' });
  });
});
