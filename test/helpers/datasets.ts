/** Paths to the shared test data, which lives beside the repository and is never committed. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DATASETS_DIR = fileURLToPath(new URL('../../../shared/datasets/', import.meta.url));
export const COURSE_DIR = `${DATASETS_DIR}cse546-face-images-1000/`;
export const COURSE_IMAGES = `${COURSE_DIR}images/`;
export const COURSE_LABELS = `${COURSE_DIR}labels.csv`;

export const hasCourseData = existsSync(COURSE_LABELS);
if (!hasCourseData) {
  console.warn(`Skipping tests that need the course images: ${COURSE_DIR} is absent (see README, "Test data").`);
}

/** The first `count` lines of the course's labels, as [stem, name]; none without the course data. */
export function firstCourseLabels(count: number): [string, string][] {
  if (!hasCourseData) return [];
  return readFileSync(COURSE_LABELS, 'utf8')
    .trim()
    .split('\n')
    .slice(1, count + 1)
    .map((line) => line.split(',') as [string, string]);
}
