// pvesh helper: the argv it sends, JSON answers, and Proxmox errors mapped to PveError with the path.
import { describe, expect, it } from 'vitest';
import { CommandError } from '../../lab/core/errors.js';
import { type CommandResult, type Runner, checkResult } from '../../lab/exec/runner.js';
import { PveError, Pvesh, pveshArgv } from '../../lab/pve/pvesh.js';
import { fixture } from './pve-fixtures.js';

function runner(reply: Partial<CommandResult>, sent: string[][] = []): Runner {
  return {
    where: 'pve1',
    run: async (argv, opts) => {
      sent.push([...argv]);
      return checkResult('pve1', argv, { stdout: '', stderr: '', exitCode: 0, ...reply }, opts);
    },
  };
}

describe('pvesh', () => {
  it('always asks for JSON; booleans become 1/0 and undefined params are left out', () => {
    expect(pveshArgv('create', '/storage', { storage: 'x', shared: true, sparse: false, base: undefined, size: 4 })).toEqual(['pvesh', 'create', '/storage', '--storage', 'x', '--shared', '1', '--sparse', '0', '--size', '4', '--output-format', 'json']);
    expect(pveshArgv('get', '/cluster/status')).toEqual(['pvesh', 'get', '/cluster/status', '--output-format', 'json']);
  });

  it('parses JSON answers; empty output is null; a worker UPID on the last line is read', async () => {
    const sent: string[][] = [];
    expect(await new Pvesh(runner({ stdout: '[{"a":1}]\n' }, sent)).get('/x', { type: 'vm' })).toEqual([{ a: 1 }]);
    expect(sent[0]).toEqual(['pvesh', 'get', '/x', '--type', 'vm', '--output-format', 'json']);
    expect(await new Pvesh(runner({ stdout: '' })).create('/storage')).toBeNull();
    expect(await new Pvesh(runner({ stdout: 'create zpool\n"UPID:pve1:00001:zfscreate:root@pam:"\n' })).create('/nodes/pve1/disks/zfs')).toBe('UPID:pve1:00001:zfscreate:root@pam:');
    await expect(new Pvesh(runner({ stdout: 'not json' })).get('/y')).rejects.toThrow('Proxmox pve1: /y: pvesh did not print JSON: not json');
  });

  it('maps Proxmox error text to PveError with node, path, code and message', async () => {
    const [param, plain, missing] = fixture('pvesh-errors.txt').split('----\n');
    const e1 = (await new Pvesh(runner({ stderr: param, exitCode: 255 })).create('/storage', { storage: 'lab-san' }).catch((e: unknown) => e)) as PveError;
    expect(e1).toBeInstanceOf(PveError);
    expect(e1.message).toBe("Proxmox pve1: /storage: Parameter verification failed.; storage: storage ID 'lab-san' already defined");
    expect([e1.node, e1.path, e1.status, e1.alreadyExists, e1.notFound]).toEqual(['pve1', '/storage', 400, true, false]);
    expect(e1.cause).toBeInstanceOf(CommandError);
    const e2 = (await new Pvesh(runner({ stderr: plain, exitCode: 255 })).create('/storage').catch((e: unknown) => e)) as PveError;
    expect([e2.status, e2.alreadyExists]).toEqual([undefined, true]);
    const e3 = (await new Pvesh(runner({ stderr: missing, exitCode: 255 })).get('/storage/lab-zfs').catch((e: unknown) => e)) as PveError;
    expect([e3.detail, e3.notFound]).toEqual(["storage 'lab-zfs' does not exist", true]);
  });

  it('a command that could not run at all stays a CommandError', async () => {
    const r: Runner = { where: 'pve1', run: async () => { throw new CommandError('pvesh was not run: cannot connect', { where: 'pve1', command: 'pvesh get /x' }); } };
    await expect(new Pvesh(r).get('/x')).rejects.toBeInstanceOf(CommandError);
  });
});
