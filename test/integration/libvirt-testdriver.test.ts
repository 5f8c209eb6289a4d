// The libvirt driver against libvirt's in-process test driver (test:///default): connection, errors,
// lifecycle events through the worker-thread event loop, ownership marks, the network and domains
// steps (idempotent apply/undo, foreign objects untouched), and clean process exit.
// Prerequisite: libvirt0 (the client library). test:///default needs no daemon.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames, type Lab, type LabNames } from '../../lab/config/names.js';
import { memoryLogger } from '../../lab/core/log.js';
import { LabState } from '../../lab/core/state.js';
import type { StepContext } from '../../lab/core/step.js';
import { LocalRunner } from '../../lab/exec/local.js';
import { openLibvirt } from '../../lab/libvirt/client.js';
import type { LibvirtDriver, LifecycleEvent } from '../../lab/libvirt/driver.js';
import { LibvirtError } from '../../lab/libvirt/errors.js';
import { nodeDomainView } from '../../lab/libvirt/lab-views.js';
import { ownedDomains, ownedNetworks, removeDomain } from '../../lab/libvirt/owned.js';
import { renderDomainXml } from '../../lab/libvirt/render.js';
import { domainsStep } from '../../lab/steps/domains.js';
import { networkStep } from '../../lab/steps/network.js';

const URI = 'test:///default';
const hasLibvirt = spawnSync('sh', ['-c', 'ldconfig -p | grep -q libvirt.so.0']).status === 0;
const scratch = mkdtempSync(join(tmpdir(), 'pvelab-lv-test-'));

function makeLab(name: string, cidr: string): { lab: Lab; names: LabNames } {
  const lab = resolveLab(parseLabObject({ name, network: { cidr }, storage: { layout: 'qcow2' } }), []);
  return { lab, names: labNames(lab, join(scratch, 'home')) };
}

function ctxFor(lv: LibvirtDriver, l: { lab: Lab; names: LabNames }): StepContext {
  return {
    lab: l.lab,
    names: l.names,
    log: memoryLogger(),
    host: new LocalRunner(),
    state: new LabState(l.names.stateDir, l.lab.name),
    signal: new AbortController().signal,
    services: { libvirt: lv },
    progress: () => {},
    dryRun: false,
  };
}

const foreignDomain = (name: string) =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`;

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!hasLibvirt)('libvirt driver on test:///default (needs libvirt0)', () => {
  let lv: LibvirtDriver;
  beforeAll(async () => {
    lv = await openLibvirt(URI);
  });
  afterAll(async () => {
    await lv?.close();
  });

  it('connects and reports versions', async () => {
    const v = await lv.version();
    expect(v.type).toBe('TEST');
    expect(v.uri).toBe(URI);
    expect(v.libvirt).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('turns libvirt errors into LibvirtError with code, domain, message and operation', async () => {
    const err = await lv.start('no-such-domain').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    const e = err as LibvirtError;
    expect([e.code, e.codeName, e.domain, e.domainName]).toEqual([42, 'NO_DOMAIN', 12, 'test']);
    expect(e.operation).toBe('virDomainLookupByName(no-such-domain)');
    expect(e.libvirtMessage).toMatch(/not found/i);
    expect(e.message).toMatch(/^cannot start domain no-such-domain: /);
    expect(await lv.getDomain('no-such-domain')).toBeUndefined();
    const bad = await lv.defineDomain('<domain type="test"><name>x</name>').catch((x: unknown) => x);
    expect(bad).toBeInstanceOf(LibvirtError);
    expect((bad as LibvirtError).operation).toBe('virDomainDefineXMLFlags');
  });

  it('a failed connection is a LibvirtError too, and leaves nothing running', async () => {
    const err = await openLibvirt('test:///nonexistent-file.xml').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect((err as LibvirtError).operation).toMatch(/^virConnectOpen\(test:\/\/\/nonexistent-file\.xml\)/);
  });

  it('delivers lifecycle events for define, start, suspend, resume, destroy and undefine', async () => {
    const name = 'pvelab-ev-1';
    const seen: LifecycleEvent[] = [];
    const off = lv.onLifecycle((e) => e.domain === name && seen.push(e));
    const next = (type: string) => lv.waitForEvent((e) => e.domain === name && e.type === type, { timeoutMs: 10_000, what: `${type} of ${name}` });
    let p = next('defined');
    await lv.defineDomain(foreignDomain(name));
    expect((await p).detail).toBe('added');
    p = next('started');
    await lv.start(name);
    expect((await p).detail).toBe('booted');
    p = next('suspended');
    await lv.suspend(name);
    await p;
    expect(await lv.domainState(name)).toBe('paused');
    p = next('resumed');
    await lv.resume(name);
    await p;
    p = next('stopped');
    await lv.destroy(name);
    const stopped = await p;
    expect(stopped.detail).toBe('destroyed');
    expect(stopped.receivedAt).toBeGreaterThanOrEqual(stopped.at);
    p = next('undefined');
    await lv.undefine(name);
    await p;
    off();
    expect(seen.map((e) => e.type)).toEqual(['defined', 'started', 'suspended', 'resumed', 'stopped', 'undefined']);
    expect(lv.eventsAlive).toBe(true);
  });

  it('shuts down with a deadline and waits for the state', async () => {
    const name = 'pvelab-shut-1';
    await lv.defineDomain(foreignDomain(name));
    await lv.start(name);
    expect(await lv.shutdown(name, { timeoutMs: 10_000 })).toBe('shutoff');
    expect(await lv.domainState(name)).toBe('shutoff');
    expect(await lv.shutdown(name, { timeoutMs: 10_000 })).toBe('shutoff'); // already off: nothing to do
    await lv.undefine(name);
  });

  it('lists ours by the mark alone: unmarked and other labs are never ours', async () => {
    const a = makeLab('lva', '10.98.1.0/24');
    const b = makeLab('lvb', '10.98.2.0/24');
    const xml = (l: typeof a, i: number) => renderDomainXml(nodeDomainView(l.lab, l.names, i, { phase: 'install' }));
    await lv.defineDomain(xml(a, 0));
    await lv.defineDomain(xml(b, 0));
    await lv.defineDomain(foreignDomain('pvelab-lva-pve2')); // our naming scheme, but no mark
    const mine = await ownedDomains(lv, 'lva');
    expect(mine.map((d) => [d.name, d.mark])).toEqual([['pvelab-lva-pve1', { lab: 'lva', role: 'node', node: 'pve1' }]]);
    expect((await ownedDomains(lv, 'lvb')).map((d) => d.name)).toEqual(['pvelab-lvb-pve1']);
    expect((await lv.getDomain('pvelab-lva-pve2'))?.mark).toBeUndefined();
    await expect(removeDomain(lv, 'lva', 'pvelab-lva-pve2')).rejects.toThrow(/refusing to remove domain pvelab-lva-pve2/);
    await expect(removeDomain(lv, 'lva', 'pvelab-lvb-pve1')).rejects.toThrow(/does not carry lab lva's mark/);
    expect(await removeDomain(lv, 'lva', 'pvelab-lva-pve1')).toBe('removed');
    expect(await removeDomain(lv, 'lva', 'pvelab-lva-pve1')).toBe('absent');
    expect((await lv.getDomain('pvelab-lvb-pve1'))?.mark?.lab).toBe('lvb');
    await removeDomain(lv, 'lvb', 'pvelab-lvb-pve1');
    await lv.undefine('pvelab-lva-pve2');
  });

  it('network and domains steps: apply converges, reruns are no-ops, undo is rm -f, two labs stay apart', async () => {
    const a = makeLab('sta', '10.98.3.0/24');
    const b = makeLab('stb', '10.98.4.0/24');
    const domains = domainsStep({ installerIso: async () => '/iso/pve.iso' });
    for (const l of [a, b]) {
      const ctx = ctxFor(lv, l);
      for (const step of [networkStep, domains]) {
        expect((await step.check(ctx)).kind).toBe('todo');
        await step.apply(ctx);
        expect(await step.check(ctx)).toMatchObject({ kind: 'done' });
        await step.apply(ctx); // safe to re-run
        expect((await step.check(ctx)).kind).toBe('done');
      }
    }
    expect((await ownedNetworks(lv, 'sta')).map((n) => [n.name, n.active, n.autostart])).toEqual([['pvelab-sta', true, true]]);
    expect((await ownedDomains(lv, 'sta')).map((d) => d.name).sort()).toEqual(a.names.nodes.map((n) => n.domain).sort());
    const defined = await lv.domainXml(a.names.nodes[0]!.domain, { inactive: true });
    expect(defined).toContain('/iso/pve.iso');

    const ca = ctxFor(lv, a);
    await domains.undo!(ca);
    await networkStep.undo!(ca);
    await domains.undo!(ca); // nothing left: still succeeds
    await networkStep.undo!(ca);
    expect(await ownedDomains(lv, 'sta')).toEqual([]);
    expect(await ownedNetworks(lv, 'sta')).toEqual([]);
    expect((await ownedDomains(lv, 'stb')).length).toBe(3); // the other lab is untouched
    expect((await ownedNetworks(lv, 'stb')).length).toBe(1);
    const cb = ctxFor(lv, b);
    await domains.undo!(cb);
    await networkStep.undo!(cb);
  });

  it('a same-named object without our mark is drift, and neither apply nor undo touches it', async () => {
    const l = makeLab('stc', '10.98.5.0/24');
    const ctx = ctxFor(lv, l);
    await lv.defineNetwork(`<network><name>${l.names.network.name}</name><bridge name='foreign0'/><ip address='10.98.5.1' netmask='255.255.255.0'/></network>`);
    await lv.defineDomain(foreignDomain(l.names.nodes[1]!.domain));
    expect(await networkStep.check(ctx)).toMatchObject({ kind: 'drift' });
    expect(await domainsStep().check(ctx)).toMatchObject({ kind: 'drift' });
    await networkStep.apply(ctx);
    await networkStep.undo!(ctx);
    await domainsStep().undo!(ctx);
    const net = await lv.getNetwork(l.names.network.name);
    expect([net?.active, net?.bridge, net?.mark]).toEqual([false, 'foreign0', undefined]);
    expect(await lv.getDomain(l.names.nodes[1]!.domain)).toMatchObject({ mark: undefined });
    await lv.undefineNetwork(l.names.network.name);
    await lv.undefine(l.names.nodes[1]!.domain);
  });

  it('the same lab defined elsewhere with other settings is drift with a hint', async () => {
    const l = makeLab('std', '10.98.6.0/24');
    const ctx = ctxFor(lv, l);
    await networkStep.apply(ctx);
    const bigger = resolveLab(parseLabObject({ name: 'std', network: { cidr: '10.98.6.0/24' }, storage: { layout: 'qcow2' }, nodeDefaults: { memoryMiB: 8192 } }), []);
    await domainsStep({ installerIso: async () => undefined }).apply(ctxFor(lv, { lab: bigger, names: labNames(bigger, l.names.home) }));
    const st = await domainsStep().check(ctx);
    expect(st).toMatchObject({ kind: 'drift' });
    expect(st.kind === 'drift' && st.detail).toMatch(/8192 MiB \(lab: 4096 MiB\)/);
    await domainsStep().undo!(ctx);
    await networkStep.undo!(ctx);
  });
});

describe.skipIf(!hasLibvirt)('process exit with the driver (needs libvirt0)', () => {
  const register = fileURLToPath(new URL('../../lab/libvirt/source-register.mjs', import.meta.url));
  const client = new URL('../../lab/libvirt/client.ts', import.meta.url).href;
  const runScript = (body: string) => {
    const file = join(scratch, `exit-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(file, `import { openLibvirt } from ${JSON.stringify(client)};\n${body}\n`);
    // A liveness bound, not a speed check: a process that cannot exit would hang here forever.
    return spawnSync(process.execPath, ['--import', register, file], { encoding: 'utf8', timeout: 60_000 });
  };

  it('exits after close()', () => {
    const r = runScript(`const lv = await openLibvirt('test:///default'); await lv.listDomains(); await lv.close(); console.log('closed');`);
    expect([r.status, r.signal, r.stdout.trim()]).toEqual([0, null, 'closed']);
  });

  it('exits even when a driver is left open', () => {
    const r = runScript(`const lv = await openLibvirt('test:///default'); const p = lv.waitForEvent(() => true, { timeoutMs: 20000 }); await lv.destroy('test'); await p; console.log('left open');`);
    expect([r.status, r.signal, r.stdout.trim()]).toEqual([0, null, 'left open']);
  });
});
