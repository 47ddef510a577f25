// The set-up in front of `npm start` (prestart) and `npm test` (pretest, with --browser), so
// that both work on a fresh clone with nothing installed. Plain Node, no dependencies: it runs
// before node_modules exists.
//
//   1. With --browser, first: the system Chromium that playwright.config.ts launches, at
//      CHROMIUM_PATH (default /usr/bin/chromium); Playwright never downloads one. When the
//      default one is absent on a Debian/Ubuntu machine and we are root (or sudo needs no
//      password), it is installed with apt-get as .ci/run does; otherwise the script stops
//      (exit 1) with one line saying exactly what to run.
//   2. Dependencies: `npm ci --no-audit --no-fund` when node_modules/.package-lock.json is
//      missing or older than package-lock.json (the rule .ci/run uses).
//
// Silent when everything is in place, so that it costs nothing on every run.
// PEERQUORUM_NO_INSTALL=1 never installs a browser: it prints the one-line instruction instead
// (for machines where apt-get must not run, and to test that message as root).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoDir = fileURLToPath(new URL('..', import.meta.url));
const defaultChromium = '/usr/bin/chromium';

/** Prints one line of what the set-up is doing. */
function say(line) {
  console.log(`peerquorum setup: ${line}`);
}

/** Stops with one line on stderr and exit code 1. */
function fail(line) {
  console.error(line);
  process.exit(1);
}

/** Runs a command with the terminal attached; stops the set-up if it fails. */
function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: repoDir, stdio: 'inherit', env });
  if (result.status !== 0) fail(`peerquorum setup: '${[command, ...args].join(' ')}' failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
}

/** True when node_modules is missing or older than package-lock.json. */
function dependenciesStale() {
  const installed = join(repoDir, 'node_modules', '.package-lock.json');
  if (!existsSync(installed)) return true;
  return statSync(join(repoDir, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs;
}

function installDependencies() {
  say('node_modules is missing or older than package-lock.json: running npm ci --no-audit --no-fund');
  const env = { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' };
  // Inside an npm script, npm_execpath is the npm that is running us: use the same one.
  const npmCli = process.env.npm_execpath;
  if (npmCli && npmCli.endsWith('.js')) run(process.execPath, [npmCli, 'ci', '--no-audit', '--no-fund'], env);
  else run('npm', ['ci', '--no-audit', '--no-fund'], env);
}

/** True when `name` is an executable file on PATH. */
function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, name)));
}

/** The prefix that runs a command as root: none for root, sudo when it asks no password, else null. */
function rootPrefix() {
  if (process.getuid?.() === 0) return [];
  if (!onPath('sudo')) return null;
  return spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0 ? ['sudo'] : null;
}

/** The one line that says exactly what to run to get a browser for `npm test`. */
function chromiumInstruction(chromiumPath) {
  if (chromiumPath !== defaultChromium) {
    return `npm test needs Chromium: CHROMIUM_PATH=${chromiumPath} does not exist: set it to a Chromium binary, or unset it to use ${defaultChromium}`;
  }
  if (process.platform === 'darwin') {
    return "npm test needs Chromium: run 'brew install --cask chromium', then 'CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium npm test'";
  }
  if (onPath('apt-get')) {
    return `npm test needs Chromium at ${defaultChromium}: run 'sudo apt-get install -y chromium' or set CHROMIUM_PATH=/path/to/chromium`;
  }
  return `npm test needs Chromium at ${defaultChromium}: install your system's chromium package or set CHROMIUM_PATH=/path/to/chromium`;
}

/** Installs the system Chromium with apt-get as root, as .ci/run does. */
function installChromium(prefix) {
  say(`no Chromium at ${defaultChromium}: installing it with apt-get (apt-get install -y chromium)`);
  runAsRoot(prefix, ['apt-get', 'update']);
  runAsRoot(prefix, ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', 'chromium']);
}

/** Runs a command behind the prefix from rootPrefix(). */
function runAsRoot(prefix, commandLine) {
  const [command, ...args] = [...prefix, ...commandLine];
  run(command, args);
}

/** True when a missing Chromium may be installed here: the default path, with apt-get. */
function mayInstallChromium(chromiumPath) {
  if (process.env.PEERQUORUM_NO_INSTALL === '1') return false;
  return chromiumPath === defaultChromium && process.platform === 'linux' && onPath('apt-get');
}

/** Makes sure the Chromium that playwright.config.ts launches exists, or stops with one line. */
function ensureChromium() {
  const chromiumPath = process.env.CHROMIUM_PATH ?? defaultChromium;
  if (existsSync(chromiumPath)) return;
  const prefix = mayInstallChromium(chromiumPath) ? rootPrefix() : null;
  if (prefix === null) fail(chromiumInstruction(chromiumPath));
  installChromium(prefix);
  if (!existsSync(chromiumPath)) fail(`${chromiumInstruction(chromiumPath)} (apt-get ran, but ${chromiumPath} is still absent)`);
}

// The browser first: when it cannot be had, say so before a minute of npm ci.
if (process.argv.includes('--browser')) ensureChromium();
if (dependenciesStale()) installDependencies();
