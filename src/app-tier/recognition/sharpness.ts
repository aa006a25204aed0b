/**
 * How sharp an aligned face is: the variance of the Laplacian of its luma, the usual blur measure (Pech-Pacheco
 * et al. 2000), taken on the 112×112 crop the embedder sees. The crop has one size whatever the photo's, so a
 * small face stretched to it scores low as well as a blurred one. Its border is left out: the warp pads it with
 * black where the face is near the photo's edge.
 */
const BORDER = 8;

/** `planes`: the crop as three size×size planes (R, G, B) of (pixel − mean) × scale, as the embedder feeds it. */
export function laplacianVariance(planes: Float32Array, size: number, scale: number): number {
  const plane = size * size;
  const luma = new Float32Array(plane);
  for (let i = 0; i < plane; i++) {
    luma[i] = (0.299 * planes[i]! + 0.587 * planes[plane + i]! + 0.114 * planes[2 * plane + i]!) / scale;
  }
  let sum = 0;
  let sumSquares = 0;
  let n = 0;
  for (let y = BORDER; y < size - BORDER; y++) {
    for (let x = BORDER; x < size - BORDER; x++) {
      const i = y * size + x;
      const v = luma[i - size]! + luma[i + size]! + luma[i - 1]! + luma[i + 1]! - 4 * luma[i]!;
      sum += v;
      sumSquares += v * v;
      n++;
    }
  }
  const mean = sum / n;
  return sumSquares / n - mean * mean;
}
