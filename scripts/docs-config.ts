/**
 * `npm run docs:config`: rewrites the configuration reference in docs/configuration.md from the settings'
 * declarations (src/shared/settings.ts). Run it after adding or changing a setting; `npm test` fails until
 * the document matches.
 */
import { writeFile } from 'node:fs/promises';
import { CONFIGURATION_DOC, readConfigurationDoc, renderConfigurationDoc } from './lib/settings-doc.js';

const current = await readConfigurationDoc();
const next = await renderConfigurationDoc(current);
if (next === current) {
  console.log(`${CONFIGURATION_DOC} is up to date.`);
} else {
  await writeFile(CONFIGURATION_DOC, next);
  console.log(`Rewrote the settings table in ${CONFIGURATION_DOC}.`);
}
