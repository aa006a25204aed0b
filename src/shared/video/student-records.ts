/**
 * A file of student records (`npm run students -- --file records.csv`), read and checked whole before anything
 * is stored: a header with a `name` column (the enrolled person's name, the key) and the record's fields
 * (`id`, `major`, `year`, whatever the school keeps), one row per student. Every problem is reported with its
 * line and field, and one problem means nothing is loaded.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { AppError } from '../wire/errors.js';
import { nameKey, validatePersonName } from '../collections/names-and-faces.js';

/** A student's record from the students table: field name to value (an id, a major, a year…). */
export type StudentRecord = Readonly<Record<string, string>>;

/** Most students in one file: a school, not a city. */
export const MAX_STUDENTS = 10_000;
/** Longest field value, in characters. */
export const MAX_FIELD_CHARS = 256;
/** Columns the video CSV writes itself, so a record cannot have them. */
const RESERVED_FIELDS = new Set(['first_seen_seconds', 'best_similarity', 'faces_seen']);
const FIELD_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
/** Problems listed at most; the rest are counted. */
const MAX_PROBLEMS = 20;

/** A records file that cannot be loaded, with every problem found, each naming its line and field. */
export class StudentRecordsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`The student records were not loaded, none of them:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StudentRecordsError';
  }
}

export interface StudentRecords {
  /** The record fields, in the file's order (without `name`). */
  readonly fields: readonly string[];
  readonly records: ReadonlyMap<string, StudentRecord>;
}

export function parseStudentRecords(text: string): StudentRecords {
  let rows: { record: Record<string, string>; info: { lines: number } }[];
  try {
    rows = parse(text, { columns: true, bom: true, trim: true, skip_empty_lines: true, info: true });
  } catch (err) {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines;
      throw new StudentRecordsError([`${line === undefined ? '' : `line ${line}: `}${err.message}`]);
    }
    throw err;
  }
  const header = Object.keys(rows[0]?.record ?? {});
  const problems: string[] = [];
  if (rows.length === 0)
    throw new StudentRecordsError(['the file holds no student (a header line, then one line per student)']);
  if (!header.includes('name'))
    throw new StudentRecordsError([`line 1: there is no "name" column (found: ${header.join(', ')})`]);
  const fields = header.filter((h) => h !== 'name');
  for (const f of fields) {
    if (!FIELD_PATTERN.test(f))
      problems.push(`line 1, field "${f}": a field name is lower-case letters, digits and _, at most 32`);
    else if (RESERVED_FIELDS.has(f)) problems.push(`line 1, field "${f}": the video CSV writes this column itself`);
  }
  if (rows.length > MAX_STUDENTS) problems.push(`the file holds ${rows.length} students, more than ${MAX_STUDENTS}`);
  const records = new Map<string, StudentRecord>();
  const lineOf = new Map<string, number>();
  for (const { record, info } of rows) {
    const line = info.lines;
    let name: string;
    try {
      name = validatePersonName(record['name'] ?? '');
    } catch (err) {
      problems.push(`line ${line}, field "name": ${(err as AppError).message}`);
      continue;
    }
    const key = nameKey(name);
    const earlier = lineOf.get(key);
    if (earlier !== undefined) {
      problems.push(
        `line ${line}, field "name": "${name}" is on line ${earlier} already (or a name that reads the same)`,
      );
      continue;
    }
    lineOf.set(key, line);
    for (const f of fields) {
      const value = record[f] ?? '';
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(value)) problems.push(`line ${line}, field "${f}": a control character`);
      else if ([...value].length > MAX_FIELD_CHARS)
        problems.push(`line ${line}, field "${f}": longer than ${MAX_FIELD_CHARS} characters`);
    }
    records.set(name, Object.fromEntries(fields.map((f) => [f, record[f] ?? ''])));
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_PROBLEMS);
    if (problems.length > MAX_PROBLEMS) shown.push(`and ${problems.length - MAX_PROBLEMS} more`);
    throw new StudentRecordsError(shown);
  }
  return { fields, records };
}
