// Test hosts (sshd and/or HTTP) in their own network namespace, reachable from the test process
// (test-harness.md §5). Each host is a LabNs without libvirt (labns.ts), so it has the same lifetime
// guarantees: down(), exit/signal handlers and SIGKILL of the test process all remove it.
// Address: the namespace end of its uplink veth (10.250.X.Y/30); nothing listens in the root namespace.
// Never send traffic to `address` after down(): its route is gone and packets would take the default route.
import { type RequestListener, type Server, createServer } from 'node:http';
import { connect } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LabNs, startLabNs } from './labns.js';
import { type RunOpts, type RunResult, run, waitFor } from './run.js';

export interface TestHostOpts {
  sshd?: { authorizedKeys: string }; // authorized_keys content for root
  /** Dropbear instead of OpenSSH (as on the stand-in nodes); root's home is a tmpfs inside the namespace. */
  dropbear?: boolean;
  http?: { root: string; port?: number } | { node: RequestListener; port?: number }; // port default 80
  label?: string;
}

export interface TestHost {
  readonly address: string;
  readonly sshPort: number; // 22, or 0 without sshd
  readonly httpPort: number; // 0 without http
  readonly hostKeyPub: string; // "ssh-ed25519 AAAA..." ('' without sshd)
  readonly knownHosts: string; // known_hosts line for address ('' without sshd)
  readonly ns: LabNs;
  exec(argv: string[], opts?: RunOpts): Promise<RunResult>; // inside the host's namespaces
  kill(): Promise<void>; // services crash: SIGKILL every process of the host, close the node server (RST from now on)
  setLink(up: boolean): Promise<void>; // cut/restore the host's network: packets dropped, connections time out
  down(): Promise<void>; // idempotent; removes namespace, veth, scratch dir
}

/** Creates an ed25519 key pair DIR/NAME (+ .pub) with no passphrase. */
export async function makeSshKey(dir: string, name = 'id_ed25519'): Promise<{ privateKeyPath: string; privateKey: string; publicKey: string }> {
  const privateKeyPath = join(dir, name);
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `pvelab-test-${name}`, '-f', privateKeyPath]);
  return { privateKeyPath, privateKey: readFileSync(privateKeyPath, 'utf8'), publicKey: readFileSync(`${privateKeyPath}.pub`, 'utf8').trim() };
}

const tcpOpen = (host: string, port: number) =>
  new Promise<true | undefined>((resolve) => {
    const s = connect({ host, port, timeout: 1000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('timeout', () => (s.destroy(), resolve(undefined)));
    s.once('error', () => resolve(undefined));
  });

// Runs inside the host's netns: binds the listening socket there and hands it to the test process over IPC.
const LISTENER_SRC = `const s = require('net').createServer();
s.listen({ host: process.argv[1], port: Number(process.argv[2]) }, () => process.send('listening', s, () => process.exit(0)));`;

async function nodeListener(ns: LabNs, host: string, port: number, handler: RequestListener): Promise<Server> {
  const child = ns.spawn([process.execPath, '-e', LISTENER_SRC, host, String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const handle = await new Promise<object>((resolve, reject) => {
    child.once('message', (_m, h) => (h ? resolve(h) : reject(new Error('testhost: no socket handle received'))));
    child.once('exit', (code) => reject(new Error(`testhost: listener helper exited (${code}) before handing over its socket`)));
  });
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(handle, resolve)); // takes over the received socket
  return server;
}

export async function startTestHost(opts: TestHostOpts): Promise<TestHost> {
  const ns = await startLabNs({ libvirt: false, label: opts.label ?? 'testhost' });
  try {
    const { nsIp: address } = await ns.link();
    let hostKeyPub = '';
    let server: Server | undefined;
    if (opts.sshd) {
      const d = ns.dir;
      await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'pvelab-testhost', '-f', join(d, 'hostkey')]);
      hostKeyPub = readFileSync(join(d, 'hostkey.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
      writeFileSync(join(d, 'authorized_keys'), opts.sshd.authorizedKeys.endsWith('\n') ? opts.sshd.authorizedKeys : `${opts.sshd.authorizedKeys}\n`);
      if (opts.dropbear) {
        // the namespace has its own mount namespace: a tmpfs /root holds authorized_keys for dropbear
        await run(['dropbearkey', '-t', 'ed25519', '-f', join(d, 'hostkey.db')]);
        hostKeyPub = (await run(['dropbearkey', '-y', '-f', join(d, 'hostkey.db')])).stdout.split('\n').find((l) => l.startsWith('ssh-ed25519 '))!.split(' ').slice(0, 2).join(' ');
        await ns.exec(['sh', '-c', `mount -t tmpfs -o mode=700 pvelab-root /root && mkdir -m 700 /root/.ssh && cp ${join(d, 'authorized_keys')} /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys`]);
        await ns.exec(['dropbear', '-r', join(d, 'hostkey.db'), '-p', `${address}:22`, '-P', join(d, 'sshd.pid'), '-s']);
        await waitFor(`dropbear on ${address}:22`, () => tcpOpen(address, 22), 20_000);
      } else await ns.exec(['/usr/sbin/sshd', '-f', '/dev/null', '-h', join(d, 'hostkey'), '-o', `ListenAddress=${address}`, '-o', 'Port=22',
        '-o', `PidFile=${join(d, 'sshd.pid')}`, '-o', `AuthorizedKeysFile=${join(d, 'authorized_keys')}`, '-o', 'StrictModes=no',
        '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no', '-o', 'UsePAM=no', '-o', 'UseDNS=no',
        '-o', 'PermitRootLogin=prohibit-password', '-o', 'Subsystem=sftp internal-sftp', '-E', join(d, 'sshd.log')]);
      if (!opts.dropbear) await waitFor(`sshd on ${address}:22`, () => tcpOpen(address, 22), 20_000);
    }
    const httpPort = opts.http ? (opts.http.port ?? 80) : 0;
    if (opts.http && 'root' in opts.http) {
      await ns.exec(['busybox', 'httpd', '-p', `${address}:${httpPort}`, '-h', opts.http.root]);
      await waitFor(`httpd on ${address}:${httpPort}`, () => tcpOpen(address, httpPort), 20_000);
    } else if (opts.http) {
      server = await nodeListener(ns, address, httpPort, opts.http.node);
    }
    const stopServer = () => {
      server?.closeAllConnections();
      server?.close();
      server = undefined;
    };
    return {
      address,
      sshPort: opts.sshd ? 22 : 0,
      httpPort,
      hostKeyPub,
      knownHosts: hostKeyPub ? `${address} ${hostKeyPub}` : '',
      ns,
      exec: (argv, o) => ns.exec(argv, o),
      async kill() {
        stopServer();
        // kill(-1) inside the pid namespace reaches every process there except its init and the caller.
        await ns.exec(['sh', '-c', 'kill -KILL -1 2>/dev/null; true']);
      },
      async setLink(up) {
        // Drop in the host's own netfilter instead of downing a link: the root-ns route to `address`
        // must stay in place, or probes would leave through the default route.
        const rules = ['INPUT -i uplink -j DROP', 'OUTPUT -o uplink -j DROP'];
        const script = up
          ? rules.map((r) => `while iptables -w -D ${r} 2>/dev/null; do :; done`).join('; ')
          : rules.map((r) => `iptables -w -C ${r} 2>/dev/null || iptables -w -I ${r.replace(' ', ' 1 ')}`).join(' && ');
        await ns.exec(['sh', '-c', script]);
      },
      async down() {
        stopServer();
        await ns.down();
      },
    };
  } catch (err) {
    await ns.down();
    throw err;
  }
}
