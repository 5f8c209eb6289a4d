// Live stand-in, daemon side, against fake node endpoints: the command channel (REQ/READ/LINE/
// OUT/ERR/EXIT) and the agent channel (PING/PONG/HELLO/RUN/DONE) over unix sockets, the way QEMU's
// virtio-serial chardev presents them; the container scripts; the virsh output parser.
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../standin/control/live/agent.js';
import { CmdServer } from '../standin/control/live/cmd-server.js';
import { startScript, stopScript } from '../standin/control/live/effects.js';
import { b64, unb64 } from '../standin/control/live/lines.js';
import { standinChannelXml } from '../standin/control/live/standin.js';
import { PASSWORD, kit } from '../standin/control/testkit.js';

const cleanup: Array<() => void> = [];
afterEach(() => {
  while (cleanup.length) cleanup.pop()!();
});

/** a unix server standing in for QEMU's chardev: the "guest" end is the accepted socket */
function guestEnd(path: string): Promise<{ sock: Socket; lines: string[]; next(pred: (l: string) => boolean): Promise<string> }> {
  return new Promise((resolve) => {
    const srv: Server = createServer((sock) => {
      const lines: string[] = [];
      const waiters: Array<[(l: string) => boolean, (l: string) => void]> = [];
      let buf = '';
      sock.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const l = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          lines.push(l);
          const w = waiters.findIndex(([p]) => p(l));
          if (w >= 0) waiters.splice(w, 1)[0]![1](l);
        }
      });
      resolve({ sock, lines, next: (pred) => new Promise((r) => { const hit = lines.find(pred); if (hit) r(hit); else waiters.push([pred, r]); }) });
    });
    srv.listen(path);
    cleanup.push(() => srv.close());
  });
}

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'standin-live-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

describe('stand-in live channels', () => {
  it('command channel: argv in, output and exit code out; stdin lines only on request', async () => {
    const k = await kit({ nodes: 2 });
    const tick = setInterval(() => void k.clock.advance(1), 5);
    cleanup.push(() => clearInterval(tick));
    const dir = tmp();
    const guest = guestEnd(join(dir, 'c.sock'));
    const srv = new CmdServer(k.m, 'pve1', join(dir, 'c.sock'));
    cleanup.push(() => srv.close());
    const g = await guest;
    const req = (id: string, argv: string[]) => g.sock.write(`REQ ${id} ${argv.map((a) => b64(`x${a}`)).join(' ')}\n`);
    req('1', ['pveversion']);
    expect(await g.next((l) => l.startsWith('EXIT 1 '))).toBe('EXIT 1 0');
    expect(unb64(g.lines.find((l) => l.startsWith('OUT 1 '))!.split(' ')[2])).toMatch(/^pve-manager\/9\.2\.\d+\//);
    req('2', ['pvecm', 'create', 'lab']);
    await g.next((l) => l.startsWith('EXIT 2 '));
    const srv2 = new CmdServer(k.m, 'pve2', join(dir, 'c2.sock'));
    cleanup.push(() => srv2.close());
    const g2p = guestEnd(join(dir, 'c2.sock'));
    const g2 = await g2p;
    g2.sock.write(`REQ 3 ${['pvecm', 'add', '10.99.0.11', '--fingerprint', k.m.world.fingerprint('pve1')].map((a) => b64(`x${a}`)).join(' ')}\n`);
    await g2.next((l) => l === 'READ 3');
    g2.sock.write(`LINE 3 ${b64(PASSWORD)}\n`);
    expect(await g2.next((l) => l.startsWith('EXIT 3 '))).toBe('EXIT 3 0');
    const out = g2.lines.filter((l) => l.startsWith('OUT 3 ')).map((l) => unb64(l.split(' ')[2])).join('');
    expect(out).toContain("successfully added node 'pve2' to cluster.");
    g2.sock.write(`REQ 4 ${['pvecm', 'add', '10.99.0.11'].map((a) => b64(`x${a}`)).join(' ')}\n`);
    await g2.next((l) => l === 'READ 4');
    g2.sock.write('EOF 4\n');
    await g2.next((l) => l.startsWith('EXIT 4 '));
    expect(g2.lines.filter((l) => l.startsWith('ERR 4 ')).map((l) => unb64(l.split(' ')[2])).join('')).toBe('EOF while reading password\n');
    req('5', ['pvesh', 'get', '/cluster/status', '--output-format', '']);
    expect(await g.next((l) => l.startsWith('EXIT 5 '))).toBe('EXIT 5 255');
  });

  it('agent channel: boot id from HELLO/PONG, scripts run and answer DONE', async () => {
    const dir = tmp();
    const guest = guestEnd(join(dir, 'a.sock'));
    const boots: string[] = [];
    const agent = new AgentClient(join(dir, 'a.sock'), (b) => boots.push(b));
    cleanup.push(() => agent.close());
    const g = await guest;
    await g.next((l) => l === 'PING 0');
    g.sock.write('PONG 0 pve1 1111\n');
    g.sock.write('HELLO 0 pve1 1111\n');
    const run = agent.run('echo hi');
    const line = await g.next((l) => l.startsWith('RUN '));
    const [, id, script] = line.split(' ');
    expect(unb64(script)).toBe('echo hi');
    g.sock.write(`DONE ${id} 3 ${b64('out\n')} ${b64('err\n')}\n`);
    expect(await run).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(boots).toEqual(['1111']);
    agent.forgetBoot();
    g.sock.write('PONG 0 pve1 1111\n');
    g.sock.write('HELLO 0 pve1 2222\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(boots).toEqual(['1111', '2222']);
  });

  it('container scripts: namespace, veth on vmbr0, MAC/IP/route, httpd only with Apache; channel XML names the ports', () => {
    const g = { vmid: 100, node: 'pve1', type: 'lxc' as const, conf: { hostname: 'web1', net0: 'name=eth0,bridge=vmbr0,gw=10.99.0.1,hwaddr=BC:24:11:AA:BB:CC,ip=10.99.0.50/24,type=veth' } };
    expect(startScript(g)).not.toContain('httpd');
    const s = startScript(g, { docroot: new Map([['index.html', 'hello from web1 (CT 100)\n']]) });
    expect(s).toContain('ip link add vct100 type veth peer name eth0 netns ct100\n');
    expect(s).toContain('ip -n ct100 link set eth0 address BC:24:11:AA:BB:CC\n');
    expect(s).toContain('ip -n ct100 addr add 10.99.0.50/24 dev eth0\n');
    expect(s).toContain('ip -n ct100 route add default via 10.99.0.1\n');
    expect(s).toContain(`printf '%s' ${Buffer.from('hello from web1 (CT 100)\n').toString('base64')} | base64 -d > '/run/standin/ct/100/www/index.html.standin-new'\n`);
    expect(s).toMatch(/ip netns exec ct100 httpd -p 80 -h \/run\/standin\/ct\/100\/www\n$/);
    expect(stopScript(100)).toContain('ip netns del ct100');
    const xml = standinChannelXml(tmp(), 'pve1');
    expect(xml).toMatch(/<target type='virtio' name='org\.pvelab\.standin\.cmd'\/>/);
    expect(xml).toMatch(/<target type='virtio' name='org\.pvelab\.standin\.agent'\/>/);
  });
});
