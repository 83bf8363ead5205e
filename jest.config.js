/** Jest: TypeScript through SWC (type-checking is `npm run build`'s job). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.stack/'],
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  globalSetup: '<rootDir>/test/global-setup.ts',
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  testTimeout: 120000,
  // Integration suites share one native stack; two workers fit a 2-core machine.
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 2,
  verbose: false,
};
