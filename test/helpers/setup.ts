/** Run before each test file (vitest setupFiles): removes the data directories its test stacks made. */
import { afterAll } from 'vitest';
import { removeDataDirs } from './data-dirs.js';

afterAll(removeDataDirs);
