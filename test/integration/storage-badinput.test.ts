// Bad input against a real host (a lab namespace with tgtd; its own small and read-only mounts): each
// case stops the storage pipeline with one PreflightError, and nothing exists afterwards — no file, no
// target, no configuration file.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreflightError } from '../../lab/core/errors.js';
import { runUp } from '../../lab/core/pipeline.js';
import type { StepContext } from '../../lab/core/step.js';
import { storageSteps } from '../../lab/steps/storage-steps.js';
import { missingPrereq, startStorageNs, type StorageNs } from './storage-env.js';

const missing = missingPrereq(['tgtd', 'tgtadm', 'qemu-img', 'nsenter', 'unshare']);
let env: StorageNs;

beforeAll(async () => {
  if (missing) return;
  env = await startStorageNs('storage-bad');
  // Mounts inside the namespace only (private mount namespace): the host never sees them.
  await env.sh(`mkdir -p ${env.dir}/small ${env.dir}/ro
    mount -t tmpfs -o size=64m pvelab-small ${env.dir}/small
    mount -t tmpfs -o ro,size=1m pvelab-ro ${env.dir}/ro`);
});
afterAll(() => env?.down());

async function expectNothingCreated(dir: string) {
  const targets = (await env.ns.exec(['tgtadm', '--lld', 'iscsi', '--op', 'show', '--mode', 'target'])).stdout;
  expect(targets).toBe('');
  expect(readdirSync(join(env.dir, 'conf.d'))).toEqual([]);
  const files = (await env.ns.exec(['ls', '-A', dir], { allowFail: true })).stdout.trim();
  expect(files).toBe('');
}

async function failUp(lab: ReturnType<StorageNs['lab']>, patch: (c: StepContext) => Partial<StepContext> = () => ({})): Promise<string> {
  const base = env.ctx(lab);
  const err = await runUp(storageSteps(lab), () => ({ ...base, ...patch(base) })).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PreflightError);
  return (err as Error).message;
}

describe.skipIf(!!missing)(`storage bad input: one clear error, nothing created${missing ? ` (skipped: ${missing} missing)` : ''}`, () => {
  it('a LUN larger than the free space', async () => {
    const dir = `${env.dir}/small`;
    const msg = await failUp(env.lab({ storage: { layout: 'qcow2', dir, lunGiB: 8 } }));
    // every image that cannot fit is listed in the one error: the LUN, three root and three ZFS images
    // images go to the lab's own directory in storage.dir (pvelab-<lab>), made only once all is well
    const own = `${dir}/pvelab-${env.labName}`;
    expect(msg.split('\n')).toEqual([
      'host storage has 7 problems:',
      `  ✗ ${own}/shared-lun.img would be 8 GiB but only 64 MiB is free in ${dir}`,
      ...['pve1', 'pve2', 'pve3'].map((n) => `  ✗ ${own}/${n}-root.qcow2 would be 16 GiB but only 64 MiB is free in ${dir}`),
      ...['pve1', 'pve2', 'pve3'].map((n) => `  ✗ ${own}/${n}-zfs.qcow2 would be 1 GiB but only 64 MiB is free in ${dir}`),
    ]);
    await expectNothingCreated(dir);
  });

  it('a backing directory on a read-only filesystem', async () => {
    const dir = `${env.dir}/ro`;
    expect(await failUp(env.lab({ storage: { layout: 'qcow2', dir } }))).toBe(`host storage: the image directory ${dir} is read-only`);
    await expectNothingCreated(dir);
  });

  it('a missing backing directory', async () => {
    const dir = `${env.dir}/does-not-exist`;
    expect(await failUp(env.lab({ storage: { layout: 'qcow2', dir } }))).toBe(`host storage: storage.dir ${dir} does not exist`);
    expect((await env.ns.exec(['test', '-e', dir], { allowFail: true })).exitCode).toBe(1);
    await expectNothingCreated(`${env.dir}/images`);
  });

  it('a portal address that is not on the host', async () => {
    const lab = env.lab({ storage: { layout: 'iscsi' } });
    const portal = env.cidr.replace(/0\/24$/, '222');
    const msg = await failUp(lab, (c) => ({ names: { ...c.names, iscsi: { ...c.names.iscsi, portal } } }));
    expect(msg).toBe(`host storage: the iSCSI portal ${portal} is not an address of this host nor the lab bridge address ${env.gateway}`);
    await expectNothingCreated(`${env.dir}/images`);
  });
});
