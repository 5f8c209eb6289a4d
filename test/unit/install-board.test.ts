// The install step's progress line (every node on one line, elapsed time on waits) and the pins it
// writes: three first contacts pinned at once all land in known_hosts; forgetting one keeps the others.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabState } from '../../lab/core/state.js';
import { ProgressBoard } from '../../lab/install/board.js';
import { labNodeSsh } from '../../lab/install/ssh-probe.js';
import { key, rig } from './install-fakes.js';

describe('progress board', () => {
  it('re-emits the whole line on every change; waits show their elapsed time from 1 s on', () => {
    let t = 0;
    const lines: string[] = [];
    const b = new ProgressBoard(['pve1', 'pve2'], (l) => lines.push(l), { tickMs: 0, now: () => t });
    expect(b.line()).toBe('pve1: checking · pve2: checking');
    b.set('pve1', 'installing', true);
    expect(lines).toEqual(['pve1: installing · pve2: checking']);
    t = 125_000;
    b.set('pve2', 'booting from disk', true);
    t = 127_500;
    expect(b.line()).toBe('pve1: installing 2 min 8 s · pve2: booting from disk 2.5 s');
    b.set('pve1', 'ready');
    expect(lines.at(-1)).toBe('pve1: ready · pve2: booting from disk 2.5 s');
    b.close();
  });

  it('ticks while a node waits, and stops after close()', async () => {
    const lines: string[] = [];
    const b = new ProgressBoard(['pve1'], (l) => lines.push(l), { tickMs: 10 });
    await new Promise((r) => setTimeout(r, 35));
    expect(lines).toEqual([]); // nothing timed yet
    b.set('pve1', 'installing', true);
    await new Promise((r) => setTimeout(r, 45));
    const n = lines.length;
    expect(n).toBeGreaterThan(1);
    b.close();
    await new Promise((r) => setTimeout(r, 30));
    expect(lines.length).toBe(n);
  });
});

describe('host key pins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvelab-install-pins-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('pins written concurrently for three nodes all land in known_hosts; forget removes one', async () => {
    const state = new LabState(dir, 't1');
    const nodes = rig().ctx().names.nodes;
    const ssh = labNodeSsh(state);
    await Promise.all(nodes.map((n) => ssh.pin(n, key(n.name))));
    const text = readFileSync(state.knownHostsPath, 'utf8');
    for (const n of nodes) expect(text).toContain(`${n.name},${n.ip} ssh-ed25519 ${key(n.name).base64}\n`);
    expect(await ssh.pinned(nodes[1]!)).toEqual(key('pve2'));
    await Promise.all([ssh.forget(nodes[1]!), ssh.pin(nodes[2]!, key('pve3-new'))]);
    expect(await ssh.pinned(nodes[1]!)).toBeUndefined();
    expect(await ssh.pinned(nodes[0]!)).toEqual(key('pve1'));
    expect(await ssh.pinned(nodes[2]!)).toEqual(key('pve3-new'));
  });
});
