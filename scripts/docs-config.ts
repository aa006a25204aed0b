/**
 * `npm run docs:config`: rewrites the configuration reference in docs/configuration.md from the settings'
 * declarations (src/shared/settings.ts), and the error table in docs/api.md from the error catalogue
 * (src/shared/errors.ts). Run it after adding or changing a setting or an error; `npm test` fails until the
 * documents match.
 */
import { writeFile } from 'node:fs/promises';
import { API_DOC, readApiDoc, renderApiDoc } from './lib/errors-doc.js';
import { CONFIGURATION_DOC, readConfigurationDoc, renderConfigurationDoc } from './lib/settings-doc.js';

const current = await readConfigurationDoc();
const next = await renderConfigurationDoc(current);
if (next === current) {
  console.log(`${CONFIGURATION_DOC} is up to date.`);
} else {
  await writeFile(CONFIGURATION_DOC, next);
  console.log(`Rewrote the settings table in ${CONFIGURATION_DOC}.`);
}

const api = await readApiDoc();
const nextApi = await renderApiDoc(api);
if (nextApi === api) {
  console.log(`${API_DOC} is up to date.`);
} else {
  await writeFile(API_DOC, nextApi);
  console.log(`Rewrote the error table in ${API_DOC}.`);
}
