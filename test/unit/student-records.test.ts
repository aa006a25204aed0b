/** A student records file: read whole, every problem named by line and field, nothing loaded when one is wrong. */
import { describe, expect, it } from 'vitest';
import { parseStudentRecords, StudentRecordsError } from '../../src/shared/video/student-records.js';

const problems = (text: string): readonly string[] => {
  try {
    parseStudentRecords(text);
  } catch (err) {
    if (err instanceof StudentRecordsError) return err.problems;
    throw err;
  }
  throw new Error('loaded');
};

describe('parseStudentRecords', () => {
  it('reads the fields the file has, keyed by the enrolled name, quoted values included', () => {
    const { fields, records } = parseStudentRecords(
      '\uFEFFname,id,major,year\r\nAna_Lima,1001,"Computer Science, minor ""Art""",3\r\nBen Okafor,1002,Physics,2\r\n',
    );
    expect(fields).toEqual(['id', 'major', 'year']);
    expect(records.get('Ana_Lima')).toEqual({ id: '1001', major: 'Computer Science, minor "Art"', year: '3' });
    expect([...records.keys()]).toEqual(['Ana_Lima', 'Ben Okafor']);
  });

  it.each([
    ['no row', 'name,id\n', [/holds no student/]],
    ['no name column', 'student,id\nAna,1\n', [/^line 1: there is no "name" column \(found: student, id\)/]],
    [
      'a bad field name',
      'name,Major Subject\nAna,CS\n',
      [/^line 1, field "Major Subject": a field name is lower-case/],
    ],
    ['a reserved field', 'name,faces_seen\nAna,3\n', [/^line 1, field "faces_seen": the video CSV writes this column/]],
    ['a broken row', 'name,id\nAna,1\nBen,2,extra\n', [/^line 3: .*/]],
    ['an unclosed quote', 'name,id\nAna,"1\n', [/^line \d+: .*[Qq]uote/]],
    ['a name against the rule', 'name,id\nAna,1\n<b>,2\n', [/^line 3, field "name": .*/]],
    ['Unknown as a name', 'name,id\nUnknown,1\n', [/^line 2, field "name": .*"Unknown"/]],
    ['the same name twice', 'name,id\nAna,1\nana,2\n', [/^line 3, field "name": "ana" is on line 2 already/]],
    ['a control character', 'name,id\nAna,"1\u0007"\n', [/^line 2, field "id": a control character/]],
    ['a value too long', `name,id\nAna,${'x'.repeat(257)}\n`, [/^line 2, field "id": longer than 256 characters/]],
  ])('refuses %s, saying where', (_what, text, expected) => {
    const found = problems(text);
    expect(found).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(found[i]).toMatch(re));
  });

  it('reports every problem at once, and loads nothing', () => {
    const found = problems('name,id\n<a>,1\nBen,2\n<c>,3\nBen,4\n');
    expect(found).toEqual([
      expect.stringMatching(/^line 2, field "name"/),
      expect.stringMatching(/^line 4, field "name"/),
      expect.stringMatching(/^line 5, field "name": "Ben" is on line 3 already/),
    ]);
  });
});
