/** Where a failed message goes: answered now, left to come back, or answered as given up. */
import { describe, expect, it } from 'vitest';
import { decideRetry } from '../../src/app-tier/retry-decision.js';
import { AppError } from '../../src/shared/wire/errors.js';

const permanent = new AppError('NO_FACE', { file: 'a.jpg' });
const retryableApp = new AppError('GALLERY_BUSY', { attempts: 5 });
const hiccup = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });

describe('decideRetry', () => {
  it.each([
    // error, receive count, max receives, expected
    [permanent, 1, 3, { kind: 'refuse', error: permanent }],
    [permanent, 3, 3, { kind: 'refuse', error: permanent }],
    [permanent, 7, 3, { kind: 'refuse', error: permanent }],
    [hiccup, 1, 3, { kind: 'retry', attempts: 1 }],
    [hiccup, 2, 3, { kind: 'retry', attempts: 2 }],
    [hiccup, 3, 3, { kind: 'give-up', attempts: 3 }],
    // Counted past the limit (a redrive that lagged): still the last word.
    [hiccup, 5, 3, { kind: 'give-up', attempts: 5 }],
    // A queue without retries: the first failure is the last.
    [hiccup, 1, 1, { kind: 'give-up', attempts: 1 }],
    // An AppError that trying again may fix is a hiccup too.
    [retryableApp, 1, 3, { kind: 'retry', attempts: 1 }],
    [retryableApp, 3, 3, { kind: 'give-up', attempts: 3 }],
    // Not even an Error.
    ['a thrown string', 1, 2, { kind: 'retry', attempts: 1 }],
    // An unreadable receive count is taken as the first.
    [hiccup, Number.NaN, 3, { kind: 'retry', attempts: 1 }],
    [hiccup, 0, 3, { kind: 'retry', attempts: 1 }],
    [hiccup, Number.NaN, 1, { kind: 'give-up', attempts: 1 }],
  ] as const)('%s, receive %d of %d → %j', (err, receives, max, expected) => {
    expect(decideRetry(err, receives, max)).toEqual(expected);
  });
});
