import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One local stack (kube-apiserver, etcd, BIND, SES simulator) serves every test file.
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // End-to-end files each run an operator against the one shared API server: one file at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    outputFile: { junit: '.cache/test-report.xml' },
  },
});
