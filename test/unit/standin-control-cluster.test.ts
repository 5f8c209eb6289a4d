// Stand-in model: cluster create/join over the node commands, with the upstream wording and exit
// codes for the mistakes a client can make (proxmox.md C; pve-cluster Setup.pm/ClusterConfig.pm).
import { describe, expect, it } from 'vitest';
import { PASSWORD, formCluster, kit } from '../standin/control/testkit.js';

describe('stand-in cluster create/join', () => {
  it('a standalone node reports itself only and refuses join info with 424', async () => {
    const k = await kit();
    const st = await k.json('pve1', 'pvesh get /cluster/status');
    expect(st).toEqual([{ type: 'node', id: 'node/pve1', name: 'pve1', ip: '10.99.0.11', local: 1, nodeid: 0, online: 1, level: '' }]);
    const r = await k.run('pve1', 'pvesh get /cluster/config/join --output-format json');
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toMatch(/^424 node is not in a cluster, no join info available!/);
    const s = await k.run('pve1', 'pvecm status');
    expect(s.exitCode).toBe(255);
    expect(s.stderr).toBe("Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?\n");
  });

  it('forms a quorate 3-node cluster; status, nodes and join info agree', async () => {
    const k = await kit();
    await formCluster(k, 'lab');
    const st = await k.json('pve2', 'pvesh get /cluster/status');
    expect(st[0]).toEqual({ type: 'cluster', id: 'cluster', name: 'lab', nodes: 3, version: 3, quorate: 1 });
    expect(st.slice(1).map((e: any) => [e.name, e.nodeid, e.online, e.local])).toEqual([['pve1', 1, 1, 0], ['pve2', 2, 1, 1], ['pve3', 3, 1, 0]]);
    const s = await k.ok('pve3', 'pvecm status');
    expect(s.stdout).toContain('Name:             lab\nConfig Version:   3\nTransport:        knet\nSecure auth:      on\n');
    expect(s.stdout).toContain('Quorate:          Yes\n');
    expect(s.stdout).toContain('Expected votes:   3\nHighest expected: 3\nTotal votes:      3\nQuorum:           2  \nFlags:            Quorate \n');
    expect(s.stdout).toContain('0x00000003          1 10.99.0.13 (local)\n');
    const n = await k.ok('pve1', 'pvecm nodes');
    expect(n.stdout).toBe('\nMembership information\n----------------------\n    Nodeid      Votes Name\n         1          1 pve1 (local)\n         2          1 pve2\n         3          1 pve3\n');
    const info = await k.json('pve1', 'pvesh get /cluster/config/join');
    expect(info.nodelist.map((x: any) => [x.name, x.nodeid, x.ring0_addr])).toEqual([['pve1', '1', '10.99.0.11'], ['pve2', '2', '10.99.0.12'], ['pve3', '3', '10.99.0.13']]);
    expect(info.nodelist[0].pve_fp).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('join output follows the real transcript and the joiner gets a new certificate', async () => {
    const k = await kit({ nodes: 2 });
    await k.ok('pve1', 'pvecm create lab');
    const before = k.m.world.fingerprint('pve2');
    const fp = k.m.world.fingerprint('pve1');
    const r = await k.ok('pve2', `pvecm add 10.99.0.11 --fingerprint ${fp}`, `${PASSWORD}\n`);
    expect(r.stdout).toMatch(/^Establishing API connection with host '10.99.0.11'\nLogin succeeded\.\ncheck cluster join API version\nNo cluster network links passed explicitly, fallback to local node IP '10.99.0.12'\nRequest addition of this node\nJoin request OK, finishing setup locally\nstopping pve-cluster service\nbackup old database to '\/var\/lib\/pve-cluster\/backup\/config-\d+\.sql\.gz'\n/);
    expect(r.stdout).toMatch(/generated new node certificate, restart pveproxy and pvedaemon services\nsuccessfully added node 'pve2' to cluster\.\n$/);
    expect(k.m.world.fingerprint('pve2')).not.toBe(before);
  });

  it('join mistakes fail inside the worker: error on stderr, exit code still 0', async () => {
    const k = await kit();
    await k.ok('pve1', 'pvecm create lab');
    const fp = k.m.world.fingerprint('pve1');
    const noFp = await k.run('pve2', 'pvecm add 10.99.0.11', `${PASSWORD}\n`);
    expect(noFp).toMatchObject({ exitCode: 0, stderr: 'Fingerprint not verified, abort!\n' });
    expect(noFp.stdout).toContain(`X509 SHA256 key fingerprint is ${fp}.\nAre you sure you want to continue connecting (yes/no)? `);
    const badFp = fp.replace(/^../, fp.startsWith('AA') ? 'BB' : 'AA');
    expect(await k.run('pve2', `pvecm add 10.99.0.11 --fingerprint ${badFp}`, `${PASSWORD}\n`)).toMatchObject({ exitCode: 0, stderr: `fingerprint '${fp}' not verified, abort!\n` });
    expect(await k.run('pve2', `pvecm add 10.99.0.11 --fingerprint ${fp}`, 'wrong\n')).toMatchObject({ exitCode: 0, stderr: '401 authentication failure\n' });
    expect(await k.run('pve2', `pvecm add 10.99.0.11 --fingerprint ${fp}`, '')).toMatchObject({ exitCode: 0, stderr: 'EOF while reading password\n' });
    const yes = await k.run('pve2', 'pvecm add 10.99.0.11', `${PASSWORD}\nyes\n`);
    expect(yes.stdout).toContain("successfully added node 'pve2' to cluster.");
    const again = await k.run('pve2', `pvecm add 10.99.0.11 --fingerprint ${fp}`, `${PASSWORD}\n`);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain("detected the following error(s):\n* authentication key '/etc/corosync/authkey' already exists\n* cluster config '/etc/pve/corosync.conf' already exists\n");
    expect(again.stderr).toBe('Check if node may join a cluster failed!\n');
    expect((await k.run('pve1', 'pvecm create other')).stderr).toBe("cluster config '/etc/pve/corosync.conf' already exists\n");
  });

  it('node names are unique and fixed: a reinstalled pve3 cannot rejoin under its old name', async () => {
    const k = await kit();
    await formCluster(k);
    k.m.reinstall('pve3');
    const fp = k.m.world.fingerprint('pve1');
    const r = await k.run('pve3', `pvecm add 10.99.0.11 --fingerprint ${fp}`, `${PASSWORD}\n`);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("An error occurred on the cluster node: can't add existing node 'pve3'\n");
    expect(r.stderr).toBe('Cluster join aborted!\n');
    const forced = await k.run('pve3', `pvecm add 10.99.0.11 --fingerprint ${fp} --force 1`, `${PASSWORD}\n`);
    expect(forced.stdout).toContain("successfully added node 'pve3' to cluster.");
    expect((await k.json('pve1', 'pvesh get /cluster/status'))[0]).toMatchObject({ nodes: 3, quorate: 1 });
  });

  it('pvesh join requires the fingerprint (400, exit 255) and prints the task UPID', async () => {
    const k = await kit({ nodes: 2 });
    await k.ok('pve1', 'pvecm create lab');
    const miss = await k.run('pve2', `pvesh create /cluster/config/join --hostname 10.99.0.11 --password ${PASSWORD}`);
    expect(miss.exitCode).toBe(255);
    expect(miss.stderr).toMatch(/^400 Parameter verification failed\.\nfingerprint: property is missing and it is not optional\npvesh create <api_path> \[OPTIONS\]/);
    const fp = k.m.world.fingerprint('pve1');
    const r = await k.ok('pve2', `pvesh create /cluster/config/join --hostname 10.99.0.11 --password ${PASSWORD} --fingerprint ${fp} --output-format json`);
    expect(r.stdout).toMatch(/successfully added node 'pve2' to cluster\.\n"UPID:pve2:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:clusterjoin::root@pam:"\n$/);
  });

  it('a cluster name longer than 15 characters is rejected by the schema', async () => {
    const k = await kit({ nodes: 1 });
    const r = await k.run('pve1', 'pvecm create a-very-long-cluster-name');
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toBe('400 Parameter verification failed.\nclustername: value may only be 15 characters long\npvecm create <clustername> [OPTIONS]\n');
  });
});
