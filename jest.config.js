/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/support/tmpdirSetup.ts',
  globalTeardown: '<rootDir>/test/support/tmpdirTeardown.ts',
  reporters: ['default', '<rootDir>/test/support/summaryReporter.js'],
};
