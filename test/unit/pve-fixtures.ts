// Helpers for the pve-* unit tests (not a test file): fixture loading, a scripted NodeShell that
// records every command sent (argv, stdin), and a StepContext over a temporary lab state.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { type Lab, type LabNames, labNames } from '../../lab/config/names.js';
import { memoryLogger } from '../../lab/core/log.js';
import { LabState } from '../../lab/core/state.js';
import type { Services, StepContext } from '../../lab/core/step.js';
import { type CommandResult, type RunOptions, type Runner, checkResult } from '../../lab/exec/runner.js';
import type { NodeShell } from '../../lab/ssh/nodes.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A fixture from test/fixtures/pve-extra or ../shared/fixtures/pve, without its provenance line. */
export function fixture(name: string): string {
  for (const dir of [join(root, 'test/fixtures/pve-extra'), join(root, '../shared/fixtures/pve')]) {
    const p = join(dir, name);
    if (existsSync(p)) return readFileSync(p, 'utf8').replace(/^# source:.*\n/, '');
  }
  throw new Error(`fixture ${name} not found in test/fixtures/pve-extra or ../shared/fixtures/pve`);
}
export const jsonFixture = (name: string): unknown => JSON.parse(fixture(name));

export interface Sent {
  node: string;
  argv: string[];
  input?: string;
}
type Reply = Partial<CommandResult> | string | object;
/** Handler: return a reply (string = stdout, object = JSON stdout, or a result) or undefined = not mine. */
export type Handler = (node: string, argv: string[], opts: RunOptions) => Reply | undefined;

/** A NodeShell whose commands are answered by handlers in order; an unanswered command fails the test. */
export class FakeNodes implements NodeShell {
  readonly sent: Sent[] = [];
  readonly uploads: { node: string; local: string; remote: string; mode?: number | undefined }[] = [];
  readonly downloads: { node: string; remote: string; local: string }[] = [];
  private handlers: Handler[] = [];
  on(h: Handler): this {
    this.handlers.push(h);
    return this;
  }
  runner(node: string): Runner {
    return {
      where: node,
      run: async (argv: readonly string[], opts: RunOptions = {}) => {
        const a = [...argv];
        this.sent.push(opts.input === undefined ? { node, argv: a } : { node, argv: a, input: opts.input });
        for (const h of this.handlers) {
          const r = h(node, a, opts);
          if (r === undefined) continue;
          const res: CommandResult = typeof r === 'string' ? { stdout: r, stderr: '', exitCode: 0 } : 'exitCode' in r || 'stdout' in r || 'stderr' in r ? { stdout: '', stderr: '', exitCode: 0, ...(r as Partial<CommandResult>) } : { stdout: JSON.stringify(r), stderr: '', exitCode: 0 };
          return checkResult(node, a, res, opts);
        }
        throw new Error(`unexpected command on ${node}: ${a.join(' ')}`);
      },
    };
  }
  async upload(node: string, local: string, remote: string, mode?: number) {
    this.uploads.push({ node, local, remote, mode });
  }
  async download(node: string, remote: string, local: string) {
    this.downloads.push({ node, remote, local });
  }
  async pinHostKey() {}
  async close() {}
  /** Commands sent, as "node: argv joined by spaces". */
  lines(filter?: (s: Sent) => boolean): string[] {
    return this.sent.filter(filter ?? (() => true)).map((s) => `${s.node}: ${s.argv.join(' ')}`);
  }
}

/** pvesh argv → ["get", path, params…] helper for handlers. */
export function pvesh(argv: string[], verb: string, path: string | RegExp): boolean {
  return argv[0] === 'pvesh' && argv[1] === verb && (typeof path === 'string' ? argv[2] === path : path.test(argv[2] ?? ''));
}

export function testLab(extra: Record<string, unknown> = {}): { lab: Lab; names: LabNames } {
  const lab = resolveLab(parseLabObject({ name: 'lab', network: { cidr: '10.77.0.0/24' }, ...extra }), []);
  return { lab, names: labNames(lab, mkdtempSync(join(tmpdir(), 'pvelab-home-'))) };
}

export function testCtx(lab: Lab, names: LabNames, services: Partial<Services>, log = memoryLogger()): StepContext & { log: ReturnType<typeof memoryLogger>; progressLines: string[] } {
  const progressLines: string[] = [];
  const state = new LabState(names.stateDir, lab.name);
  return { lab, names, log, host: { where: 'host', run: async () => { throw new Error('no host commands expected'); } }, state, signal: new AbortController().signal, services, progress: (t) => progressLines.push(t), dryRun: false, progressLines };
}
