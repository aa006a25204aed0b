/**
 * The committed test photos (test/fixtures, see its SOURCE.md): a slice of the course's workload and of LFW, each
 * laid out like its dataset in ../shared/datasets, which only benchmarks and accuracy measurements read.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
/** 100 of the course's images (its 10 pictures under 10 names each) and their labels. */
export const COURSE_DIR = `${FIXTURES}course/`;
export const COURSE_IMAGES = `${COURSE_DIR}images/`;
export const COURSE_LABELS = `${COURSE_DIR}labels.csv`;
/** LFW photos (labels.csv, pairs.csv, images/), some with background faces. */
export const LFW_DIR = `${FIXTURES}lfw/`;
export const LFW_IMAGES = `${LFW_DIR}images/`;

/** Every course image's label, by file stem. */
export function courseLabels(): Map<string, string> {
  return new Map(firstCourseLabels(Infinity));
}

/** The first `count` lines of the course's labels, as [stem, name]. */
export function firstCourseLabels(count: number): [string, string][] {
  return readFileSync(COURSE_LABELS, 'utf8')
    .trim()
    .split('\n')
    .slice(1, count + 1)
    .map((line) => line.split(',') as [string, string]);
}
