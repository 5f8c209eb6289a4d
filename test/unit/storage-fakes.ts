// Test doubles for the storage unit tests: a Runner that answers from rules and records the exact argv
// (and stdin) of every call, a fixture loader that drops the first-line provenance comment, and a
// StepContext builder. An argv no rule matches fails the test (no silent defaults).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames, type Lab } from '../../lab/config/names.js';
import { memoryLogger } from '../../lab/core/log.js';
import { LabState } from '../../lab/core/state.js';
import type { Services, StepContext } from '../../lab/core/step.js';
import { checkResult, type CommandResult, type RunOptions, type Runner } from '../../lab/exec/runner.js';

const FIX = fileURLToPath(new URL('../fixtures/storage/', import.meta.url));

/** A fixture's text without its first-line provenance comment ("# captured: …" / "# format: …"). */
export function fixture(name: string): string {
  const text = readFileSync(join(FIX, name), 'utf8');
  return /^# (captured|format):/.test(text) ? text.slice(text.indexOf('\n') + 1) : text;
}

export type Answer = Partial<CommandResult> | ((argv: readonly string[], input?: string) => Partial<CommandResult>);
export interface Call { argv: string[]; input?: string; env?: Record<string, string> }

export class FakeRunner implements Runner {
  readonly where = 'fake';
  readonly calls: Call[] = [];
  private rules: { match: (argv: readonly string[]) => boolean; answer: Answer }[] = [];

  /** Answers argv that starts with `prefix` (later rules win). */
  on(prefix: readonly string[] | ((argv: readonly string[]) => boolean), answer: Answer): this {
    const match = typeof prefix === 'function' ? prefix : (argv: readonly string[]) => prefix.every((p, i) => argv[i] === p);
    this.rules.unshift({ match, answer });
    return this;
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    this.calls.push({ argv: [...argv], ...(opts.input !== undefined ? { input: opts.input } : {}), ...(opts.env ? { env: opts.env } : {}) });
    const rule = this.rules.find((r) => r.match(argv));
    if (!rule) throw new Error(`FakeRunner: unexpected command: ${argv.join(' ')}`);
    const a = typeof rule.answer === 'function' ? rule.answer(argv, opts.input) : rule.answer;
    return checkResult(this.where, argv, { stdout: a.stdout ?? '', stderr: a.stderr ?? '', exitCode: a.exitCode ?? 0 }, opts);
  }

  /** The argv of calls whose first word is one of `programs`, joined for readable assertions. */
  commands(...programs: string[]): string[] {
    return this.calls.filter((c) => programs.length === 0 || programs.includes(c.argv[0] ?? '')).map((c) => c.argv.join(' '));
  }
}

export function testLab(input: Record<string, unknown> = {}): Lab {
  return resolveLab(parseLabObject({ name: 't1', network: { cidr: '10.77.5.0/24' }, ...input }), []);
}

/** One scratch root per test file for lab state dirs (secrets); the file's afterAll calls cleanupScratch. */
let scratch: string | undefined;
function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'pvelab-storage-unit-'));
  return mkdtempSync(join(scratch, 'ctx-'));
}

export function cleanupScratch(): void {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

export function makeCtx(lab: Lab, host: Runner, services: Partial<Services>, home?: string): StepContext & { log: ReturnType<typeof memoryLogger> } {
  const dir = home ?? scratchDir();
  return {
    lab,
    names: labNames(lab, dir),
    log: memoryLogger(),
    host,
    state: new LabState(join(dir, lab.name), lab.name),
    signal: new AbortController().signal,
    services,
    progress: () => {},
    dryRun: false,
  };
}
