/** `npm run test:faults`: the fault-injection suite, on its own private stack (no shared-stack globalSetup). */
const base = require('../../jest.config.js');
const integration = base.projects.find((p) => p.displayName === 'integration');
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: integration.testEnvironment,
  transform: integration.transform,
  rootDir: '../..',
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.faults.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
  testTimeout: 900000,
};
