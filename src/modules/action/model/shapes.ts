// The network's configuration and the shapes it implies: makeConfig (defaults from config.ts,
// checked field by field), the RGB token volume and reference grid, the joint groups of local joint
// stride attention, configFor (a dataset + the command's model options → ActionConfig), and the
// attention cost count behind `action cost`.
import { DEFAULT_CONFIG, type ActionConfig, type ModelOptions } from '../config.ts';
import type { ActionDataset } from '../data.ts';

export function makeConfig(o: Partial<ActionConfig> = {}): ActionConfig {
  const c = { ...DEFAULT_CONFIG, ...o };
  const bad = (field: string, msg: string): never => { throw new Error(`action config: '${field}' ${msg}`); };
  for (const k of ['numClasses', 'joints', 'bodies', 'coordDim', 'frames', 'dim', 'heads', 'depth', 'imgSize', 'jointStride', 'temporalStride', 'offsetGroups'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) bad(k, `must be a positive integer, got ${c[k]}`);
  }
  if (c.dim % c.heads) bad('dim', `(${c.dim}) must be divisible by heads (${c.heads})`);
  if (c.dim % c.offsetGroups) bad('offsetGroups', `(${c.offsetGroups}) must divide dim (${c.dim})`);
  if (c.backboneChannels.length !== c.backboneStrides.length) bad('backboneStrides', 'needs one (t,h,w) stride per backbone layer');
  if (!(c.offsetRange > 0)) bad('offsetRange', `must be > 0, got ${c.offsetRange}`);
  if (c.poseStats && (c.poseStats.mean.length !== c.coordDim || c.poseStats.std.length !== c.coordDim || !c.poseStats.std.every((s) => s > 0))) {
    bad('poseStats', `needs ${c.coordDim} means and ${c.coordDim} positive stds`);
  }
  if (c.jointGrouping === 'parts' && c.joints !== 25) bad('jointGrouping', `'parts' is defined for the 25-joint NTU skeleton, got joints=${c.joints}`);
  return c;
}

const convOut = (n: number, k: number, s: number) => Math.floor((n + 2 * Math.floor(k / 2) - k) / s) + 1;

/** Token resolution (T', H', W') of the RGB backbone for a config. */
export function tokenShape(c: ActionConfig): [number, number, number] {
  let [t, h, w] = [c.frames, c.imgSize, c.imgSize];
  for (const s of c.backboneStrides) { t = convOut(t, c.backboneKernel, s[0]); h = convOut(h, c.backboneKernel, s[1]); w = convOut(w, c.backboneKernel, s[2]); }
  return [t, h, w];
}
/** The reference grid G_t×G_h×G_w of the 3D token search: `grid`, or half the token resolution [recon]. */
export function gridShape(c: ActionConfig): [number, number, number] {
  if (c.grid) return c.grid;
  const [t, h, w] = tokenShape(c);
  return [Math.max(1, Math.floor(t / 2)), Math.max(1, Math.floor(h / 2)), Math.max(1, Math.floor(w / 2))];
}

/** NTU body-part groups (0-based): torso+head, left arm, right arm, left leg, right leg. */
export const NTU_PARTS: number[][] = [[0, 1, 2, 3, 20], [4, 5, 6, 7, 21, 22], [8, 9, 10, 11, 23, 24], [12, 13, 14, 15], [16, 17, 18, 19]];

/** Joint groups for local joint stride attention over J·M joints (each joint in exactly one group). */
export function jointGroups(c: ActionConfig): number[][] {
  const groups: number[][] = [];
  for (let m = 0; m < c.bodies; m++) {
    const off = m * c.joints;
    if (c.jointGrouping === 'parts') for (const g of NTU_PARTS) groups.push(g.map((j) => j + off));
    else for (let r = 0; r < Math.min(c.jointStride, c.joints); r++) {
      const g: number[] = [];
      for (let j = r; j < c.joints; j += c.jointStride) g.push(j + off);
      groups.push(g);
    }
  }
  return groups;
}

/** The network for a dataset: its classes and skeleton, the command's model options, a backbone sized to the crop. */
export function configFor(ds: Pick<ActionDataset, 'classNames' | 'frames' | 'joints' | 'bodies' | 'coordDim' | 'imgSize' | 'feats' | 'poseStats'>, p: ModelOptions, rgb: boolean): ActionConfig {
  const useRgb = rgb && ds.imgSize !== null;
  const imgSize = ds.imgSize ?? DEFAULT_CONFIG.imgSize;
  // backbone strides: spatial /2 per layer down to ~6 tokens, time /2 once (T' = T/2) [recon]
  const layers = Math.max(1, Math.min(3, Math.round(Math.log2(imgSize / 6))));
  const strides: [number, number, number][] = Array.from({ length: layers }, (_, i) => [i === Math.min(1, layers - 1) && ds.frames >= 4 ? 2 : 1, 2, 2]);
  const channels = Array.from({ length: layers }, (_, i) => Math.min(p.dim, 16 * 2 ** i));
  return makeConfig({
    numClasses: ds.classNames.length, joints: ds.joints, bodies: ds.bodies, coordDim: ds.coordDim, frames: ds.frames,
    dim: p.dim, heads: p.heads, depth: p.depth, mlpRatio: p.mlpRatio, rgb: useRgb, imgSize, backboneChannels: channels, backboneStrides: strides,
    jointGrouping: p.jointGrouping, jointStride: p.jointStride, temporalStride: p.temporalStride, offsetGroups: p.offsetGroups,
    offsetRange: p.offsetRange, learnOffsets: p.learnOffsets, head: p.head, feats: [...(ds.feats ?? ['j'])], poseStats: ds.poseStats ?? null,
  });
}

/**
 * Attention score-matrix entries per clip, full attention vs the paper's strided and deformable
 * attentions (the cost argument of its joint stride and temporal stride attention, and its Fig. 1:
 * full vs 3D deformable attention). Counts query×key pairs per head, summed over calls.
 */
export function attentionCost(c: ActionConfig): Record<string, number> {
  const J = c.joints * c.bodies, T = c.frames;
  const groups = jointGroups(c);
  const jointStrided = T * groups.reduce((s, g) => s + (g.length + 1) ** 2, 0);
  const jointFull = T * (J + 1) ** 2; // all joints of a frame in one call
  const st = Math.min(c.temporalStride, T);
  let temporalStrided = 0;
  for (let r = 0; r < st; r++) { const n = Math.ceil((T - r) / st); temporalStrided += (n + 2) ** 2; }
  const temporalFull = (T + 2) ** 2;
  const [t, h, w] = tokenShape(c);
  const [gt, gh, gw] = gridShape(c);
  const n = t * h * w;
  const deformable = (n + 2) * (gt * gh * gw + 2);
  const rgbFull = (n + 2) ** 2;
  return { jointStrided, jointFull, temporalStrided, temporalFull, deformable, rgbFull };
}
