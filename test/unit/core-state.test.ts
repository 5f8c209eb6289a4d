import { mkdtempSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LabState } from '../../lab/core/state.js';
import { mask, clearSecrets } from '../../lab/core/secrets.js';

const fresh = () => new LabState(join(mkdtempSync(join(tmpdir(), 'pvelab-state-')), 'lab'), 'lab');

describe('LabState', () => {
  it('generates secrets once, keeps them 0600 and registers them for masking', async () => {
    clearSecrets();
    const s = fresh();
    const a = await s.secrets();
    const b = await s.secrets();
    expect(a.rootPassword).toBe(b.rootPassword);
    expect(a.rootPassword.length).toBeGreaterThanOrEqual(12);
    expect(statSync(s.secretsPath).mode & 0o777).toBe(0o600);
    expect(mask(`pw=${a.rootPassword}`)).not.toContain(a.rootPassword);
  });

  it('journals step records atomically', async () => {
    const s = fresh();
    await s.recordStep('a', { status: 'running' });
    await s.recordStep('a', { status: 'done', endedAt: 'x' });
    const j = JSON.parse(await readFile(s.journalPath, 'utf8'));
    expect(j.steps.a.status).toBe('done');
    expect(j.steps.a.startedAt).toBeTruthy();
  });

  it('refuses a second lock holder, naming it, and releases', async () => {
    const s = fresh();
    // a live foreign holder: a sleeping child process
    const child = spawn('sleep', ['30']);
    await new Promise((r) => child.once('spawn', r));
    const { writeFile, mkdir } = await import('node:fs/promises');
    await mkdir(s.dir, { recursive: true });
    await writeFile(s.lockPath, JSON.stringify({ pid: child.pid, host: (await import('node:os')).hostname(), command: 'pvelab up', since: '2026-01-01T00:00:00Z' }));
    await expect(s.lock('pvelab down')).rejects.toThrow(new RegExp(`busy: \`pvelab up\` \\(pid ${child.pid}\\)`));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // holder gone: the stale lock is taken over
    const release = await s.lock('pvelab down');
    const held = JSON.parse(await readFile(s.lockPath, 'utf8'));
    expect(held.pid).toBe(process.pid);
    await release();
    await release();
    await expect(readFile(s.lockPath)).rejects.toThrow(/ENOENT/);
  });
});
