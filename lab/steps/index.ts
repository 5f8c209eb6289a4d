// THE pipeline: the literal, ordered list of steps that `up` applies and `down` undoes in reverse.
// One line per step; the order is the build order (each step relies on the ones above it).
import type { Lab } from '../config/names.js';
import type { Step } from '../core/step.js';
import { identityStep } from './identity.js';
import { keysStep } from './keys.js';
import { preflightStep } from './preflight.js';

export function labSteps(_lab: Lab): Step[] {
  return [
    preflightStep, // pvelab doctor as a gate: nothing is created on a host that is not ready
    identityStep, // record the lab file; refuse a changed one over an existing lab; undo removes the state dir
    keysStep, // the lab's SSH key and generated secrets
  ];
}
