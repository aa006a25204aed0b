import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { minimumNode, unsupportedNode } from '../../src/shared/runtime.js';

describe('the Node.js runtime', () => {
  it('is the major version of .nvmrc: npm ci brings it, and npm runs the tests with it', () => {
    const wanted = Number(readFileSync(new URL('../../.nvmrc', import.meta.url), 'utf8').trim());
    expect(Number(process.versions.node.split('.')[0])).toBe(wanted);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(pkg.devDependencies.node).toMatch(new RegExp(`^\\^${wanted}\\.`));
  });

  it('is supported, and so is every release from engines.node on', () => {
    expect(minimumNode()).toEqual([22, 12]);
    expect(unsupportedNode()).toBeUndefined();
    for (const v of ['22.12.0', '22.20.1', '23.0.0', '24.0.0', '26.1.0']) expect(unsupportedNode(v)).toBeUndefined();
  });

  it('refuses an older Node.js with a sentence that says how to get the right one', () => {
    for (const v of ['20.20.2', '22.11.0', '18.0.0']) {
      const message = unsupportedNode(v, '/usr/bin/node');
      expect(message).toContain(`this is Node.js ${v} (/usr/bin/node)`);
      expect(message).toContain('npm ci installs Node.js 24');
    }
  });
});
