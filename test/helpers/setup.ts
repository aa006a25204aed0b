/** Run before each test file (vitest setupFiles): removes the data directories its test stacks made. */
import { afterAll } from 'vitest';
import { removeTestDataDirs } from './stack.js';

afterAll(removeTestDataDirs);
