import { describe, expect, it } from 'vitest';
import {
  cutByTileEdge,
  decodeCandidates,
  iou,
  letterbox,
  nonMaxSuppression,
  tilesFor,
} from '../../src/app-tier/recognition/detector.js';
import { rankByProminence } from '../../src/app-tier/recognition/engine.js';

const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });

describe('iou', () => {
  it.each([
    [box(0, 0, 10, 10), box(0, 0, 10, 10), 1],
    [box(0, 0, 10, 10), box(10, 10, 20, 20), 0],
    [box(0, 0, 10, 10), box(5, 0, 15, 10), 50 / 150],
  ])('%o vs %o', (a, b, expected) => expect(iou(a, b)).toBeCloseTo(expected, 9));
});

describe('nonMaxSuppression', () => {
  it('keeps the best of overlapping boxes and every separate face', () => {
    const kept = nonMaxSuppression(
      [
        { box: box(0, 0, 10, 10), score: 0.8 },
        { box: box(1, 1, 11, 11), score: 0.95 },
        { box: box(50, 50, 60, 60), score: 0.75 },
      ],
      0.3,
    );
    expect(kept.map((d) => d.score)).toEqual([0.95, 0.75]);
  });
});

describe('letterbox', () => {
  it('pads a 64x64 course image and centres it without distortion', () => {
    const lb = letterbox(64, 64, 0.25);
    expect(lb.width).toBe(lb.height);
    expect(lb.height).toBeLessThan(240);
    expect(lb.offsetX).toBe(Math.floor((320 - lb.width) / 2));
  });
});

describe('decodeCandidates', () => {
  it('maps a box from the detector input back to image pixels and drops low scores', () => {
    const lb = letterbox(100, 100, 0);
    // Anchor 0: a face covering the letterboxed image exactly; anchor 1: below the threshold.
    const x1 = lb.offsetX / 320;
    const x2 = (lb.offsetX + lb.width) / 320;
    const y1 = lb.offsetY / 240;
    const y2 = (lb.offsetY + lb.height) / 240;
    const scores = new Float32Array([0.01, 0.99, 0.9, 0.1]);
    const boxes = new Float32Array([x1, y1, x2, y2, 0, 0, 1, 1]);
    const region = { left: 0, top: 0, width: 100, height: 100 };
    const [d, ...rest] = decodeCandidates(scores, boxes, lb, region, 0.7);
    expect(rest).toEqual([]);
    expect(d!.box.x1).toBeCloseTo(0, 0);
    expect(d!.box.x2).toBeCloseTo(100, 0);
    expect(d!.score).toBeCloseTo(0.99, 6);
  });

  it("offsets a tile's boxes by the tile's position and clips them to it", () => {
    const lb = letterbox(640, 480, 0);
    const region = { left: 500, top: 300, width: 640, height: 480 };
    const [d] = decodeCandidates(new Float32Array([0, 0.9]), new Float32Array([0.5, 0.5, 1.2, 0.6]), lb, region, 0.5);
    expect(d!.box.x1).toBeCloseTo(500 + 320, 0);
    expect(d!.box.y1).toBeCloseTo(300 + 240, 0);
    expect(d!.box.x2).toBe(500 + 640);
  });
});

describe('tilesFor', () => {
  it('needs no tiles when the image fits the detector at half scale', () => {
    expect(tilesFor(64, 64)).toEqual([]);
    expect(tilesFor(640, 480)).toEqual([]);
  });

  it('covers a large image with overlapping 640x480 tiles, edge to edge', () => {
    const tiles = tilesFor(1600, 1067);
    expect(tiles).toHaveLength(9);
    expect(Math.max(...tiles.map((t) => t.left + t.width))).toBe(1600);
    expect(Math.max(...tiles.map((t) => t.top + t.height))).toBe(1067);
    for (const t of tiles) expect([t.width, t.height]).toEqual([640, 480]);
    const lefts = [...new Set(tiles.map((t) => t.left))];
    expect(lefts).toEqual([0, 480, 960]);
    // Neighbours overlap by at least a quarter of a tile.
    expect(lefts[1]! - lefts[0]!).toBeLessThanOrEqual(480);
  });

  it('keeps a narrow side whole', () => {
    const tiles = tilesFor(2000, 300);
    expect(new Set(tiles.map((t) => t.height))).toEqual(new Set([300]));
  });
});

describe('cutByTileEdge', () => {
  const image = { width: 1600, height: 1067 };
  const tile = { left: 480, top: 0, width: 640, height: 480 };
  it.each([
    ['inside the tile', box(600, 100, 700, 200), false],
    ['on the left inner edge', box(480, 100, 560, 200), true],
    ['on the bottom inner edge', box(600, 420, 700, 480), true],
    ['on the top edge, which is the image edge', box(600, 0, 700, 60), false],
  ])('a face %s', (_name, b, cut) => expect(cutByTileEdge(b, tile, image)).toBe(cut));
});

describe('rankByProminence', () => {
  it('puts a central face before a slightly larger one at the edge', () => {
    const image = { width: 250, height: 250 };
    const centre = { box: box(90, 90, 160, 160), score: 0.9 };
    const edge = { box: box(0, 0, 75, 75), score: 0.99 };
    expect(rankByProminence([edge, centre], image)[0]).toBe(centre);
    expect(rankByProminence([centre, edge], image, 'largest')[0]).toBe(edge);
    expect(rankByProminence([centre, edge], image, 'score')[0]).toBe(edge);
  });
});
