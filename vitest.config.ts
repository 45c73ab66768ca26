import { defineConfig } from "vitest/config";

// One project per suite: `npm test` runs only `unit` (no engine needed);
// the lab, engine and e2e suites need `portcullis lab up` and run from .ci/run.
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/**/*.{unit,int}.test.ts"], exclude: ["test/{lab,engine,e2e}/**"], testTimeout: 60_000 } },
      { test: { name: "lab", include: ["test/lab/**/*.test.ts"], testTimeout: 600_000, hookTimeout: 1_200_000, fileParallelism: false } },
      { test: { name: "engine", include: ["test/engine/**/*.test.ts"], testTimeout: 600_000, hookTimeout: 600_000, fileParallelism: false } },
      { test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], testTimeout: 1_200_000, hookTimeout: 1_200_000, fileParallelism: false } },
    ],
  },
});
