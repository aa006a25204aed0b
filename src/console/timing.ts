/** The server's stages of one answer, as its Server-Timing header gave them. */
import { STAGES, type StageDurations } from '../shared/wire/answer-metrics.js';
import { h } from './dom.js';

export function stagesLine(timing: StageDurations): HTMLElement {
  const parts = STAGES.filter((s) => timing[s] !== undefined).map((s) => `${s} ${timing[s]!.toFixed(1)}`);
  return h('p', { class: 'muted' }, parts.length > 0 ? `Server-Timing (ms): ${parts.join(' · ')}` : '');
}
