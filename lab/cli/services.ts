// Builds the drivers steps use (Services) for a real run, and closes them afterwards.
import type { AppContext, LoadedLab } from './app.js';
import type { Services } from '../core/step.js';

export async function openServices(_app: AppContext, _loaded: LoadedLab): Promise<{ value: Partial<Services>; close: () => Promise<void> }> {
  const value: Partial<Services> = {};
  return { value, close: async () => {} };
}
