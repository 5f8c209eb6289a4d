// One `npx vitest run` runs every layer, in order: unit (parallel) -> integration -> e2e (one file at a
// time: TCG guests on a 2-core machine). `npx vitest run --project unit` or a file path narrows it.
// Pool 'forks': lab namespaces are tied to the worker process that starts them (pdeathsig), see
// test/helpers/README.md. globalSetup sweeps namespaces left by a crashed or killed earlier run.
import { defineConfig } from 'vitest/config';

const slow = {
  fileParallelism: false,
  testTimeout: 10 * 60_000,
  hookTimeout: 5 * 60_000,
  teardownTimeout: 2 * 60_000,
};

export default defineConfig({
  test: {
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], ...slow, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], ...slow, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
