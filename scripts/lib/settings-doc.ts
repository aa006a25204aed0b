/**
 * The configuration reference in docs/configuration.md, produced from the settings' declarations
 * (src/shared/config/settings.ts): `npm run docs:config` writes it, and a test fails when the document is stale.
 */
import { fileURLToPath } from 'node:url';
import type { GeneratedSection } from './generated-section.js';
import { SETTING_NAMES, SETTINGS, type SettingSpec } from '../../src/shared/config/settings.js';

export const CONFIGURATION_DOC = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
const START = '<!-- settings:start (generated from src/shared/config/settings.ts by npm run docs:config) -->';
const END = '<!-- settings:end -->';
/** web, worker, autoscaler, local, tools. */
const ALL_READERS = 5;

/** The reference table, one row per setting, in declaration order. */
export function settingsTable(): string {
  const rows = SETTING_NAMES.map((name) => {
    const spec = SETTINGS[name] as SettingSpec;
    return [
      `\`${name}\``,
      defaultOf(spec),
      spec.unit ?? '',
      spec.readBy.length === ALL_READERS ? 'all' : spec.readBy.join(', '),
      spec.deploy ? spec.deploy.to.join(', ') : '—',
      spec.description.replaceAll('|', '\\|'),
    ];
  });
  const header = ['variable', 'default', 'unit', 'read by', 'on instances', 'meaning'];
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function defaultOf(spec: SettingSpec): string {
  if (spec.defaultText) return spec.defaultText;
  const parsed = spec.schema.safeParse(undefined);
  return parsed.success && parsed.data !== undefined ? `\`${String(parsed.data as string | number)}\`` : '—';
}

/** The settings table of docs/configuration.md. */
export const SETTINGS_SECTION: GeneratedSection = {
  doc: CONFIGURATION_DOC,
  start: START,
  end: END,
  table: settingsTable,
};
