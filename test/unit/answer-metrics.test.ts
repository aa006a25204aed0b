import { describe, expect, it } from 'vitest';
import {
  formatServerTiming,
  formatState,
  parseServerTiming,
  parseState,
  STAGES,
} from '../../src/shared/wire/answer-metrics.js';

describe('Server-Timing', () => {
  it('lists the stages in the order they happen, with durations to a tenth of a millisecond', () => {
    expect(formatServerTiming({ total: 61.234, validate: 0.44, detect: 12.06, upload: 3 })).toBe(
      'validate;dur=0.4, upload;dur=3, detect;dur=12.1, total;dur=61.2',
    );
    expect(formatServerTiming({})).toBe('');
  });

  it('round-trips every stage', () => {
    const all = Object.fromEntries(STAGES.map((s, i) => [s, i + 0.5]));
    expect(parseServerTiming(formatServerTiming(all))).toEqual(all);
  });

  it.each([
    [
      'another server’s metrics and descriptions',
      'cache;desc="Cache Read";dur=23.2, db;dur=53, total;dur=9',
      { total: 9 },
    ],
    ['a metric without a duration', 'validate, upload;desc="x"', {}],
    ['a negative or non-numeric duration', 'validate;dur=-1, upload;dur=abc, match;dur=2', { match: 2 }],
    ['the first of a repeated metric', 'total;dur=5, total;dur=7', { total: 5 }],
    ['spaces and upper-case parameter names', ' queue ; DUR = 4 ', { queue: 4 }],
    ['no header', undefined, {}],
  ])('parses %s', (_what, header, expected) => {
    expect(parseServerTiming(header)).toEqual(expected);
  });
});

describe('the state header', () => {
  it('is an RFC 8941 dictionary of integers and strings, leaving out what is unknown', () => {
    expect(
      formatState({ queueVisible: 3, queueInFlight: 5, workersRunning: 2, worker: 'local-worker-1', gallery: 7 }),
    ).toBe('queue-visible=3, queue-in-flight=5, workers-running=2, worker="local-worker-1", gallery=7');
    expect(formatState({})).toBe('');
  });

  it('round-trips, with quotes, backslashes and commas in a worker id', () => {
    const state = {
      queueVisible: 0,
      queueInFlight: 12,
      workersStarting: 1,
      workersRunning: 19,
      worker: 'i-0abc, "x"\\y',
      gallery: 41,
      stateAgeMs: 412,
    };
    expect(parseState(formatState(state))).toEqual(state);
  });

  it('replaces characters a header cannot carry, and rounds numbers to integers', () => {
    expect(formatState({ worker: 'wörker\n1', stateAgeMs: 12.7 })).toBe('worker="w?rker?1", state-age-ms=13');
  });

  it('ignores keys it does not know', () => {
    expect(parseState('gallery=3, colour="blue", queue-visible=-1')).toEqual({ gallery: 3, queueVisible: -1 });
  });
});
