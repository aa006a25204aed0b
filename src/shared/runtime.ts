/**
 * The Node.js versions facefleet runs on, read from package.json's `engines` (one place for it). Below it the
 * embedded emulator cannot start (fauxqs keeps its state with `node:sqlite`), so every entry point checks first
 * and says how to get the right Node instead of failing later on a missing module.
 */
import { readFileSync } from 'node:fs';

const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

/** The lowest supported version, from `engines.node` (`>=22.12`). */
export function minimumNode(): [major: number, minor: number] {
  const { engines } = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { engines: { node: string } };
  const match = /^>=(\d+)\.(\d+)/.exec(engines.node);
  if (!match) throw new Error(`package.json engines.node should read ">=MAJOR.MINOR", not "${engines.node}"`);
  return [Number(match[1]), Number(match[2])];
}

/** A sentence for a person when `version` is too old, or undefined when it is supported. */
export function unsupportedNode(version: string = process.versions.node, execPath = process.execPath) {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  const [minMajor, minMinor] = minimumNode();
  if (major > minMajor || (major === minMajor && minor >= minMinor)) return undefined;
  return (
    `facefleet needs Node.js ${minMajor}.${minMinor} or newer (24 recommended), and this is Node.js ${version} ` +
    `(${execPath}). Run it through npm (npm start, npm test, npm run …): npm ci installs Node.js 24 into ` +
    `node_modules/.bin, which npm puts first on the PATH of every script. Or install Node.js 24 (nvm install reads ` +
    `.nvmrc).`
  );
}
