// Softmax → detection map (PI-CAI's report_guided_annotation.extract_lesion_candidates, which
// Z-SSMNet uses): lesion-candidate extraction (static, dynamic, dynamic-v2, dynamic-fast) and the
// paper's zonal output constraint. Volumes are flat arrays, x fastest, with shape [Z, Y, X];
// connectivity is 26 throughout.

export type Shape3 = readonly [number, number, number];

/** 26-connected component labels (1..n, raster order of first voxel) of mask[i] != 0. */
export function label26(mask: ArrayLike<number | boolean>, shape: Shape3): { labels: Int32Array; count: number } {
  const [Z, Y, X] = shape;
  const n = Z * Y * X;
  const labels = new Int32Array(n);
  const stack = new Int32Array(n);
  let count = 0;
  for (let s = 0; s < n; s++) {
    if (!mask[s] || labels[s]) continue;
    count++;
    let top = 0;
    stack[top++] = s;
    labels[s] = count;
    while (top > 0) {
      const v = stack[--top]!;
      const x = v % X, y = Math.floor(v / X) % Y, z = Math.floor(v / (X * Y));
      for (let dz = -1; dz <= 1; dz++) {
        const zz = z + dz; if (zz < 0 || zz >= Z) continue;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy; if (yy < 0 || yy >= Y) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx; if (xx < 0 || xx >= X) continue;
            const u = (zz * Y + yy) * X + xx;
            if (mask[u] && !labels[u]) { labels[u] = count; stack[top++] = u; }
          }
        }
      }
    }
  }
  return { labels, count };
}

/** 26-neighbourhood dilation (3×3×3 cube) of a binary mask. */
export function dilate26(mask: Uint8Array, shape: Shape3): Uint8Array {
  const [Z, Y, X] = shape;
  const out = new Uint8Array(mask.length);
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
    if (!mask[(z * Y + y) * X + x]) continue;
    for (let dz = -1; dz <= 1; dz++) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const zz = z + dz, yy = y + dy, xx = x + dx;
      if (zz >= 0 && zz < Z && yy >= 0 && yy < Y && xx >= 0 && xx < X) out[(zz * Y + yy) * X + xx] = 1;
    }
  }
  return out;
}

/**
 * Static extraction: zero voxels with P < t, label 26-components, drop components with
 * <= minVoxels voxels, give each remaining component the max of P over it.
 */
export function staticExtraction(P: ArrayLike<number>, shape: Shape3, t: number, minVoxels = 10): Float32Array {
  const n = P.length;
  const above = new Uint8Array(n);
  for (let i = 0; i < n; i++) above[i] = P[i]! >= t && P[i]! > 0 ? 1 : 0;
  const { labels, count } = label26(above, shape);
  const size = new Int32Array(count + 1), peak = new Float64Array(count + 1);
  for (let i = 0; i < n; i++) { const l = labels[i]!; if (l) { size[l]!++; if (P[i]! > peak[l]!) peak[l] = P[i]!; } }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) { const l = labels[i]!; if (l && size[l]! > minVoxels) out[i] = peak[l]!; }
  return out;
}

export type ExtractionMode = 'dynamic' | 'dynamic-v2' | 'dynamic-fast' | 'static';

export interface ExtractionOptions {
  mode?: ExtractionMode;
  /** threshold = max / factor (dynamic modes) */
  dynamicFactor?: number;
  maxLesions?: number;
  minVoxels?: number;
  /** stop when the remaining maximum falls below this */
  minConfidence?: number;
  /** skip a candidate that touches (26-dilation of) one already extracted */
  removeAdjacent?: boolean;
  /** fixed threshold for mode 'static' */
  threshold?: number;
}

/** Lesion-candidate extraction (extract_lesion_candidates, written out). Returns the detection map (values in [0, 1]). */
export function extractLesionCandidates(P0: ArrayLike<number>, shape: Shape3, o: ExtractionOptions = {}): Float32Array {
  const mode = o.mode ?? 'dynamic';
  const factor = o.dynamicFactor ?? 2.5, maxL = o.maxLesions ?? 5, minV = o.minVoxels ?? 10, minC = o.minConfidence ?? 0.01;
  const removeAdjacent = o.removeAdjacent ?? true;
  for (let i = 0; i < P0.length; i++) {
    const v = P0[i]!;
    if (!(v >= 0 && v <= 1)) throw new Error(`extractLesionCandidates: probabilities must lie in [0, 1], voxel ${i} is ${v}`);
  }
  if (mode === 'static') return staticExtraction(P0, shape, o.threshold ?? 0.5, minV);
  const W = Float32Array.from(P0);
  const maxOf = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!; return m; };
  if (mode === 'dynamic-fast') {
    const m = maxOf(W);
    return m < minC ? new Float32Array(W.length) : staticExtraction(W, shape, m / factor, minV);
  }
  const out = new Float32Array(W.length);
  let n = 0;
  while (n < maxL) {
    const m = maxOf(W);
    if (m < minC) break;
    const t = m / factor;
    const H = staticExtraction(W, shape, t, minV);
    const m2 = maxOf(H);
    if (m2 === 0) {
      if (mode === 'dynamic') break;
      for (let i = 0; i < W.length; i++) if (W[i]! > t) W[i] = 0;
      continue;
    }
    const eq = new Uint8Array(W.length);
    for (let i = 0; i < H.length; i++) eq[i] = H[i] === m2 ? 1 : 0;
    const { labels } = label26(eq, shape);
    let touches = false;
    if (removeAdjacent) {
      const occupied = new Uint8Array(W.length);
      for (let i = 0; i < out.length; i++) occupied[i] = out[i]! > 0 ? 1 : 0;
      const dil = dilate26(occupied, shape);
      for (let i = 0; i < labels.length; i++) if (labels[i] === 1 && dil[i]) { touches = true; break; }
    }
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== 1) continue;
      if (!touches) out[i] = m2;
      W[i] = 0;
    }
    if (!touches) n++;
  }
  return out;
}

/** The paper's zonal constraint: delete every candidate component with no voxel in the gland (zone > 0). */
export function removeOutsideGland(det: Float32Array, zones: ArrayLike<number>, shape: Shape3): Float32Array {
  const { labels, count } = label26(det, shape);
  const inside = new Uint8Array(count + 1);
  for (let i = 0; i < det.length; i++) if (labels[i] && zones[i]! > 0) inside[labels[i]!] = 1;
  const out = new Float32Array(det.length);
  for (let i = 0; i < det.length; i++) if (labels[i] && inside[labels[i]!]) out[i] = det[i]!;
  return out;
}

/**
 * Post-processing of an AI zonal mask (as the reference code's zonal segmentation): keep one 26-connected gland component.
 * Components made only of label 2 (TZ) are dropped first; of the rest the largest is kept.
 * [recon] the reference also prefers a component crossing the central sagittal column; that
 * preference is applied as a tie-breaker here (largest first, then one that crosses x = X/2).
 */
export function cleanZonalMask(zones: ArrayLike<number>, shape: Shape3): Uint8Array {
  const { labels, count } = label26(Array.from(zones, (v) => (v > 0 ? 1 : 0)), shape);
  const size = new Int32Array(count + 1), hasPZ = new Uint8Array(count + 1), central = new Uint8Array(count + 1);
  const X = shape[2];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!l) continue;
    size[l]!++;
    if (zones[i] === 1) hasPZ[l] = 1;
    if (i % X === Math.floor(X / 2)) central[l] = 1;
  }
  let best = 0;
  for (let l = 1; l <= count; l++) {
    if (!hasPZ[l]) continue;
    if (!best || size[l]! > size[best]! || (size[l] === size[best] && central[l] && !central[best])) best = l;
  }
  const out = new Uint8Array(labels.length);
  if (best) for (let i = 0; i < labels.length; i++) if (labels[i] === best) out[i] = zones[i]!;
  return out;
}
