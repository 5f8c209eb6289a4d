// The node-prep shell scripts, run by a real sh on copies of the files they edit (paths redirected to a
// temp dir): repositories per release (PVE 9 deb822 "Enabled: no", PVE 8 commented .list lines),
// /etc/hosts repair, CHAP settings from stdin. Each fix makes its check pass and is idempotent.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalRunner } from '../../lab/exec/local.js';
import { CHAP_CHECK_SCRIPT, CHAP_FIX_SCRIPT, FIX_HOSTS_SCRIPT, REPOS_CHECK_SCRIPT, REPOS_FIX_SCRIPT, chapInput } from '../../lab/pve/node.js';

const sh = new LocalRunner();

function sandbox() {
  const root = mkdtempSync(join(tmpdir(), 'pvelab-node-'));
  mkdirSync(join(root, 'sources.list.d'));
  writeFileSync(join(root, 'sources.list'), 'deb http://deb.debian.org/debian bookworm main contrib\n');
  const redirect = (script: string) =>
    script.replaceAll('/etc/apt/sources.list.d', join(root, 'sources.list.d')).replaceAll('/etc/apt/sources.list', join(root, 'sources.list')).replaceAll('/etc/hosts', join(root, 'hosts')).replaceAll('/etc/iscsi/iscsid.conf', join(root, 'iscsid.conf'));
  const run = (script: string, args: string[] = [], input?: string) => sh.run(['sh', '-c', redirect(script), 'sh', ...args], { allowExit: [1], ...(input === undefined ? {} : { input }) });
  return { root, run, file: (name: string) => join(root, name) };
}

describe('apt repositories', () => {
  it('PVE 9: disables the deb822 enterprise sources with "Enabled: no" and adds no-subscription', async () => {
    const s = sandbox();
    const ent = 'Types: deb\nURIs: https://enterprise.proxmox.com/debian/pve\nSuites: trixie\nComponents: pve-enterprise\nSigned-By: /usr/share/keyrings/proxmox-archive-keyring.gpg\n';
    writeFileSync(s.file('sources.list.d/pve-enterprise.sources'), ent);
    writeFileSync(s.file('sources.list.d/ceph.sources'), ent.replace('debian/pve', 'debian/ceph-squid').replace('pve-enterprise', 'enterprise'));
    const before = await s.run(REPOS_CHECK_SCRIPT, ['9', 'trixie']);
    expect(before.exitCode).toBe(1);
    expect(before.stdout.split('\n').filter(Boolean).sort()).toEqual([`enterprise ${s.file('sources.list.d/ceph.sources')}`, `enterprise ${s.file('sources.list.d/pve-enterprise.sources')}`, 'no-subscription missing']);
    await s.run(REPOS_FIX_SCRIPT, ['9', 'trixie']);
    await s.run(REPOS_FIX_SCRIPT, ['9', 'trixie']); // idempotent
    expect(readFileSync(s.file('sources.list.d/pve-enterprise.sources'), 'utf8')).toBe(`${ent}Enabled: no\n`);
    expect(readFileSync(s.file('sources.list.d/proxmox.sources'), 'utf8')).toBe('Types: deb\nURIs: http://download.proxmox.com/debian/pve\nSuites: trixie\nComponents: pve-no-subscription\nSigned-By: /usr/share/keyrings/proxmox-archive-keyring.gpg\n');
    expect((await s.run(REPOS_CHECK_SCRIPT, ['9', 'trixie'])).exitCode).toBe(0);
  });

  it('PVE 8: comments out enterprise .list lines and adds the no-subscription line', async () => {
    const s = sandbox();
    writeFileSync(s.file('sources.list.d/pve-enterprise.list'), 'deb https://enterprise.proxmox.com/debian/pve bookworm pve-enterprise\n');
    expect((await s.run(REPOS_CHECK_SCRIPT, ['8', 'bookworm'])).stdout).toBe(`enterprise ${s.file('sources.list.d/pve-enterprise.list')}\nno-subscription missing\n`);
    await s.run(REPOS_FIX_SCRIPT, ['8', 'bookworm']);
    await s.run(REPOS_FIX_SCRIPT, ['8', 'bookworm']);
    expect(readFileSync(s.file('sources.list.d/pve-enterprise.list'), 'utf8')).toBe('# deb https://enterprise.proxmox.com/debian/pve bookworm pve-enterprise\n');
    expect(readFileSync(s.file('sources.list.d/pve-no-subscription.list'), 'utf8')).toBe('deb http://download.proxmox.com/debian/pve bookworm pve-no-subscription\n');
    expect((await s.run(REPOS_CHECK_SCRIPT, ['8', 'bookworm'])).exitCode).toBe(0);
  });
});

describe('/etc/hosts', () => {
  it('replaces every line naming the node with "<ip> <fqdn> <name>" and keeps the rest', async () => {
    const s = sandbox();
    writeFileSync(s.file('hosts'), '127.0.0.1 localhost\n127.0.1.1 pve2.pvelab.internal pve2\n10.0.0.5 pve22\n');
    await s.run(FIX_HOSTS_SCRIPT, ['pve2', 'pve2.pvelab.internal', '10.77.0.12']);
    await s.run(FIX_HOSTS_SCRIPT, ['pve2', 'pve2.pvelab.internal', '10.77.0.12']);
    expect(readFileSync(s.file('hosts'), 'utf8')).toBe('127.0.0.1 localhost\n10.0.0.5 pve22\n10.77.0.12 pve2.pvelab.internal pve2\n');
  });
});

describe('CHAP', () => {
  it('writes the credentials read from stdin, 0600; the check passes only for exactly them', async () => {
    const s = sandbox();
    writeFileSync(s.file('iscsid.conf'), 'node.startup = automatic\n# node.session.auth.authmethod = CHAP\n#node.session.auth.username = username\nnode.session.auth.password = old\n');
    const input = chapInput('lab-user', "p@ss w'rd$1");
    expect((await s.run(CHAP_CHECK_SCRIPT, [], input)).exitCode).toBe(1);
    await s.run(CHAP_FIX_SCRIPT, [], input);
    expect(readFileSync(s.file('iscsid.conf'), 'utf8')).toBe("node.startup = automatic\nnode.session.auth.authmethod = CHAP\nnode.session.auth.username = lab-user\nnode.session.auth.password = p@ss w'rd$1\n");
    expect((await s.run(CHAP_CHECK_SCRIPT, [], input)).exitCode).toBe(0);
    expect((await s.run(CHAP_CHECK_SCRIPT, [], chapInput('lab-user', 'other'))).exitCode).toBe(1);
  });
});
