// Integration: SSH/HTTP test hosts in their own namespaces (test/helpers/testhost.ts).
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nsHolders, nsId } from '../helpers/nsreg.js';
import { run } from '../helpers/run.js';
import { type TestHost, makeSshKey, startTestHost } from '../helpers/testhost.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pvelab-testhost-test-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ssh = (host: TestHost, key: string, knownHosts: string, cmd: string) =>
  run(['ssh', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'ConnectTimeout=10', '-p', String(host.sshPort), `root@${host.address}`, cmd],
    { allowFail: true, timeoutMs: 30_000 });

async function expectGone(host: TestHost, netId: string, hostIf: string, dir: string) {
  await host.down();
  expect(nsHolders(netId)).toEqual([]);
  expect((await run(['ip', 'link', 'show', hostIf], { allowFail: true })).exitCode).not.toBe(0);
  expect(existsSync(dir)).toBe(false);
}

describe('sshd + static HTTP test host', () => {
  let host: TestHost | undefined;
  afterAll(() => host?.down());

  test('accepts the authorized key only, pins its host key, serves files, and down() removes the namespace', async () => {
    const good = await makeSshKey(work, 'good');
    const other = await makeSshKey(work, 'other');
    const www = join(work, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'index.html'), 'static test page\n');
    host = await startTestHost({ sshd: { authorizedKeys: good.publicKey }, http: { root: www }, label: 'th-ssh' });
    expect(host.hostKeyPub).toMatch(/^ssh-ed25519 \S+$/);
    const kh = join(work, 'known_hosts');
    writeFileSync(kh, `${host.knownHosts}\n`);

    const ok = await ssh(host, good.privateKeyPath, kh, 'echo answer-$((6*7)); ip -4 -o addr show dev uplink');
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('answer-42');
    expect(ok.stdout).toContain(`inet ${host.address}/30`);

    const denied = await ssh(host, other.privateKeyPath, kh, 'true');
    expect(denied.exitCode).toBe(255);
    expect(denied.stderr).toContain('Permission denied');

    const wrongKh = join(work, 'known_hosts.wrong');
    writeFileSync(wrongKh, `${host.address} ${other.publicKey.split(' ').slice(0, 2).join(' ')}\n`);
    const spoofed = await ssh(host, good.privateKeyPath, wrongKh, 'true');
    expect(spoofed.exitCode).toBe(255);
    expect(spoofed.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);

    const res = await fetch(`http://${host.address}:${host.httpPort}/index.html`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('static test page\n');

    // Nothing listens in the root namespace: the services run in the host's own netns.
    expect((await host.exec(['ss', '-ltnH'])).stdout).toContain(`${host.address}:22`);
    expect((await run(['ss', '-ltnH'])).stdout).not.toContain(host.address);
    await host.kill();
    const afterKill = await ssh(host, good.privateKeyPath, kh, 'true');
    expect(afterKill.exitCode).toBe(255);
    expect(afterKill.stderr).toContain('Connection refused');

    const netId = nsId(host.ns.pid, 'net')!;
    const { hostIf } = await host.ns.link();
    await expectGone(host, netId, hostIf, host.ns.dir);
    host = undefined;
  });
});

describe('node-handler HTTP test host', () => {
  let host: TestHost | undefined;
  afterAll(() => host?.down());

  test('runs the handler of the test process on the host address; setLink and kill cut it off', async () => {
    let hits = 0;
    host = await startTestHost({
      label: 'th-node',
      http: {
        port: 8006,
        node: (req, res) => {
          hits++;
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ url: req.url, remote: req.socket.remoteAddress, local: req.socket.localAddress }));
        },
      },
    });
    const link = await host.ns.link();
    const url = `http://${host.address}:${host.httpPort}/api2/json/version`;
    const body = (await (await fetch(url, { signal: AbortSignal.timeout(5000) })).json()) as Record<string, string>;
    expect(body).toEqual({ url: '/api2/json/version', remote: link.hostIp, local: host.address });
    expect(hits).toBe(1);

    await host.setLink(false);
    // The root-ns route must stay on the veth while the link is cut (never fall back to the default route).
    expect((await run(['ip', 'route', 'get', host.address])).stdout).toContain(`dev ${link.hostIf}`);
    await expect(fetch(url, { signal: AbortSignal.timeout(1500) })).rejects.toThrow();
    await host.setLink(true);
    expect((await fetch(url, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
    expect(hits).toBe(2);

    await host.kill();
    await expect(fetch(url, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    expect(hits).toBe(2);

    const netId = nsId(host.ns.pid, 'net')!;
    await expectGone(host, netId, link.hostIf, host.ns.dir);
    host = undefined;
  });
});
