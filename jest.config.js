/**
 * Jest: TypeScript through SWC (type-checking is `npm run build`'s job), in two projects (test/README.md):
 * - `unit`: files named `*.unit.test.ts` — pure logic, no Kafka, Schema Registry, ClickHouse or Redis
 *   (`npm run test:unit`); the stack is not started, and a test that reaches for a service fails at once.
 * - `integration`: every other `*.test.ts`, against the shared native stack that globalSetup brings up.
 * `npm test` (and plain `jest`) runs both.
 */
const common = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.stack/'],
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['**/*.unit.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/setup-unit.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: [...common.testPathIgnorePatterns, '\\.unit\\.test\\.ts$'],
      globalSetup: '<rootDir>/test/global-setup.ts',
    },
  ],
  testTimeout: 120000,
  // Integration suites share one native stack; two workers fit a 2-core machine.
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 2,
  verbose: false,
};
