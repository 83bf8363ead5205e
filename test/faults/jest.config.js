/** `npm run test:faults`: the fault-injection suite, on its own private stack (no shared-stack globalSetup). */
const base = require('../../jest.config.js');
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.faults.ts'],
  globalSetup: undefined,
  setupFiles: [],
  maxWorkers: 1,
  testTimeout: 900000,
};
