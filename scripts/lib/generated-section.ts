/**
 * A document's generated section: the text between its start and end markers, replaced by a table made from the
 * code's declarations and formatted as Prettier would, so that a test can compare the document with what it
 * should say (settings-doc.ts, errors-doc.ts).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { format, resolveConfig } from 'prettier';

export interface GeneratedSection {
  /** The document's path. */
  readonly doc: string;
  readonly start: string;
  readonly end: string;
  /** What the section holds now. */
  readonly table: () => string;
}

/** The document's text with its section made anew. */
export async function renderSection(section: GeneratedSection, current: string): Promise<string> {
  const start = current.indexOf(section.start);
  const end = current.indexOf(section.end);
  if (start < 0 || end < start)
    throw new Error(`${section.doc} has lost its markers ${section.start} … ${section.end}`);
  const text = `${current.slice(0, start + section.start.length)}\n\n${section.table()}\n\n${current.slice(end)}`;
  const options = (await resolveConfig(section.doc)) ?? {};
  return format(text, { ...options, filepath: section.doc });
}

/** Rewrites the document when its section is stale; says which it was. */
export async function rewriteSection(section: GeneratedSection, what: string): Promise<void> {
  const current = await readFile(section.doc, 'utf8');
  const next = await renderSection(section, current);
  if (next === current) {
    console.log(`${section.doc} is up to date.`);
  } else {
    await writeFile(section.doc, next);
    console.log(`Rewrote ${what} in ${section.doc}.`);
  }
}
