import { describe, expect, it } from 'vitest';
import { stepsUntil } from '../../lab/cli/up.js';
import type { Step } from '../../lab/core/step.js';

const s = (id: string): Step => ({ id, title: id, check: async () => ({ kind: 'done' }), apply: async () => {} });
const steps = ['host.preflight', 'nodes.install', 'pve.node-prep.pve1', 'pve.node-prep.pve2', 'pve.cluster-create', 'pve.cluster-join.pve2', 'pve.ha-serving'].map(s);

describe('up --until', () => {
  it('stops after an exact step id', () => {
    expect(stepsUntil(steps, 'nodes.install').map((x) => x.id)).toEqual(['host.preflight', 'nodes.install']);
  });
  it('includes every step of a group', () => {
    expect(stepsUntil(steps, 'pve.node-prep').map((x) => x.id).at(-1)).toBe('pve.node-prep.pve2');
    expect(stepsUntil(steps, 'pve.cluster-join').map((x) => x.id).at(-1)).toBe('pve.cluster-join.pve2');
  });
  it('runs everything without --until and refuses an unknown step with the list', () => {
    expect(stepsUntil(steps, undefined)).toHaveLength(steps.length);
    expect(() => stepsUntil(steps, 'nope')).toThrow(/no such step/);
  });
});
