import type { Config } from 'jest';

// ts-jest with TypeScript 5.9: ts-jest supports TypeScript <7 and typescript-eslint <6.1,
// so 5.9 is the newest release both accept. Type errors are caught by `npm run typecheck`;
// here files are only transpiled (isolatedModules) to keep the suite fast.
//
// jose (JWT and JWKS) ships ES modules only, which jest's CommonJS runtime cannot require: its files are
// transpiled too. Node itself loads it with require(esm), unflagged since Node 20.19.
const tsJest = (tsconfig: string): Config['transform'] => ({
  '^.+\\.tsx?$': ['ts-jest', { tsconfig, diagnostics: false }],
  '^.+/node_modules/jose/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, diagnostics: false }],
});
const transformIgnorePatterns = ['/node_modules/(?!jose/)'];

// The shared contracts from source, so tests never wait for a shared build; subpaths (@herald/shared/errors) too.
// Relative imports are written with the `.js` they have once built (ES modules need it); from source, `./x.js` is `./x.ts`.
const sourceExtensions = { '^(\\.{1,2}/.*)\\.js$': '$1' };
const sharedFromSource = {
  ...sourceExtensions,
  '^@herald/shared$': '<rootDir>/shared/src/index.ts',
  '^@herald/shared/(.*)$': '<rootDir>/shared/src/$1.ts',
};

const config: Config = {
  // A global option: jest ignores testTimeout inside `projects`.
  testTimeout: 30_000,
  projects: [
    {
      displayName: 'shared',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/shared/test/**/*.test.ts'],
      transformIgnorePatterns,
      transform: tsJest('<rootDir>/shared/tsconfig.test.json'),
      moduleNameMapper: sourceExtensions,
    },
    {
      displayName: 'client',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/client/test/**/*.test.ts'],
      transformIgnorePatterns,
      transform: tsJest('<rootDir>/client/tsconfig.test.json'),
      moduleNameMapper: { ...sharedFromSource, '\\.css$': '<rootDir>/client/test/support/stylesheet.ts' },
      // Some client tests drive the real client code against a real gateway.
      globalSetup: '<rootDir>/server/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/server/test/support/global-teardown.ts',
    },
    {
      displayName: 'server',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/server/test/**/*.test.ts'],
      transformIgnorePatterns,
      transform: tsJest('<rootDir>/server/tsconfig.test.json'),
      moduleNameMapper: sharedFromSource,
      globalSetup: '<rootDir>/server/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/server/test/support/global-teardown.ts',
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/e2e/**/*.test.ts'],
      transformIgnorePatterns,
      transform: tsJest('<rootDir>/e2e/tsconfig.json'),
      moduleNameMapper: sharedFromSource,
      globalSetup: '<rootDir>/server/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/server/test/support/global-teardown.ts',
    },
    {
      // The load tool's own arithmetic (medians, spreads, ratios); its figures are never asserted.
      displayName: 'bench',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/bench/test/**/*.test.ts'],
      transform: {
        '^.+\\.tsx?$': ['ts-jest', { tsconfig: { module: 'commonjs', target: 'ES2022', esModuleInterop: true }, diagnostics: false }],
      },
      moduleNameMapper: sharedFromSource,
    },
    {
      // examples/host-app installed from the packed packages, built and run: `npm run test:example`.
      displayName: 'example',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/examples/host-app/test/**/*.test.ts'],
      transformIgnorePatterns,
      transform: tsJest('<rootDir>/e2e/tsconfig.json'),
      moduleNameMapper: sharedFromSource,
      globalSetup: '<rootDir>/server/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/server/test/support/global-teardown.ts',
    },
    {
      // Faults at random for a while, then a check of everything against the database: `npm run test:chaos`.
      displayName: 'chaos',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/chaos/**/*.test.ts'],
      transformIgnorePatterns,
      transform: tsJest('<rootDir>/server/tsconfig.test.json'),
      moduleNameMapper: sharedFromSource,
      globalSetup: '<rootDir>/server/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/server/test/support/global-teardown.ts',
    },
    {
      displayName: 'faults',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/faults/**/*.test.ts'],
      transformIgnorePatterns,
      transform: tsJest('<rootDir>/server/tsconfig.test.json'),
      moduleNameMapper: sharedFromSource,
      globalSetup: '<rootDir>/server/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/server/test/support/global-teardown.ts',
    },
  ],
};

export default config;
