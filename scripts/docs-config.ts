/**
 * `npm run docs:config`: rewrites the configuration reference in docs/configuration.md from the settings'
 * declarations (src/shared/config/settings.ts), and the error table in docs/api.md from the error catalogue
 * (src/shared/wire/errors.ts). Run it after adding or changing a setting or an error; `npm test` fails until the
 * documents match.
 */
import { ERRORS_SECTION } from './lib/errors-doc.js';
import { rewriteSection } from './lib/generated-section.js';
import { SETTINGS_SECTION } from './lib/settings-doc.js';

await rewriteSection(SETTINGS_SECTION, 'the settings table');
await rewriteSection(ERRORS_SECTION, 'the error table');
