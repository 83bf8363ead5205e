import crypto from 'node:crypto';
import { guardUnitTestFile, noServiceEnv, takeRefused } from './support/no-services';

// The unit project (jest.config.js): no service endpoints, and a clear failure for any test that
// reaches for one (test/README.md). Runs after test/setup-env.ts, before each unit test file.
const tag = crypto.randomBytes(4).toString('hex');
Object.assign(process.env, noServiceEnv(tag));
guardUnitTestFile(expect.getState().testPath ?? 'a unit test file', tag);
// A unit test is seconds of pure logic; one stuck on a client's retries fails well before 120 s.
jest.setTimeout(30_000);

const failOnRefused = () => {
  const [first] = takeRefused();
  if (first) throw first;
};
afterEach(failOnRefused);
afterAll(() => {
  guardUnitTestFile(undefined);
  failOnRefused();
});
