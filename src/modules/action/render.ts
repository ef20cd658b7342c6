// Skeleton pictures for people and the dashboard: an animated SVG of a clip (SMIL, plays in any
// browser), and the explainability figure (frames as panels, joints coloured by attention,
// panels shaded by frame attention) as SVG, rasterised to PNG.
import { svgToPng } from '../../core/plots.ts';
import { NTU_BONES, NTU_JOINTS } from './ntu.ts';
import { PENN_JOINTS } from './penn.ts';
import { layoutFor } from './skeleton.ts';

export const PENN_BONES: [number, number][] = [
  [0, 1], [0, 2], [1, 2], [1, 3], [3, 5], [2, 4], [4, 6], [1, 7], [2, 8], [7, 8], [7, 9], [9, 11], [8, 10],
  [10, 12],
];

export function bonesFor(joints: number, bodies: number): [number, number][] {
  const base = joints === NTU_JOINTS ? NTU_BONES : joints === PENN_JOINTS ? PENN_BONES : (layoutFor(joints).pairs ?? []).filter(([a, b]) => a !== b);
  const out: [number, number][] = [];
  for (let m = 0; m < bodies; m++) for (const [a, b] of base) out.push([a + m * joints, b + m * joints]);
  return out;
}

/** Heat colour for w in [0, 1]: blue → yellow → red. */
export function heat(w: number): string {
  const x = Math.max(0, Math.min(1, Number.isFinite(w) ? w : 0));
  const r = Math.round(255 * Math.min(1, 2 * x)), g = Math.round(255 * (x < 0.5 ? 0.3 + 1.4 * x : 2 * (1 - x))), b = Math.round(255 * Math.max(0, 1 - 2 * x));
  return `rgb(${r},${g},${b})`;
}
const norm01 = (v: number[]) => { const lo = Math.min(...v), hi = Math.max(...v); return v.map((x) => (hi > lo ? (x - lo) / (hi - lo) : 0.5)); };

interface Proj { px: (t: number, j: number) => [number, number]; }
function projector(pose: Float32Array, frames: number, nj: number, w: number, h: number, pad: number): Proj {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let k = 0; k < frames * nj; k++) {
    const x = pose[k * 3]!, y = pose[k * 3 + 1]!;
    if (!Number.isFinite(x + y)) continue;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  if (!Number.isFinite(x0)) { x0 = -1; x1 = 1; y0 = -1; y1 = 1; }
  const s = Math.min((w - 2 * pad) / Math.max(1e-6, x1 - x0), (h - 2 * pad) / Math.max(1e-6, y1 - y0));
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  return { px: (t, j) => [w / 2 + (pose[(t * nj + j) * 3]! - cx) * s, h / 2 - (pose[(t * nj + j) * 3 + 1]! - cy) * s] };
}
const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '0');

export interface SkeletonSvgOptions {
  size?: number;
  fps?: number;
  /** per-joint weights [J·M] colour the joints (the heat overlay) */
  jointWeights?: number[];
  title?: string;
}

/** Animated SVG of a pose clip [T·N·3] (x right, y up). */
export function skeletonSvg(pose: Float32Array, frames: number, joints: number, bodies = 1, o: SkeletonSvgOptions = {}): string {
  const S = o.size ?? 240, nj = joints * bodies, fps = o.fps ?? 8;
  const dur = `${(frames / fps).toFixed(3)}s`;
  const { px } = projector(pose, frames, nj, S, S, 16);
  const w = o.jointWeights ? norm01(o.jointWeights) : null;
  const anim = (attr: string, vals: string[]) => `<animate attributeName="${attr}" values="${vals.join(';')}" dur="${dur}" calcMode="discrete" repeatCount="indefinite"/>`;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${S}" height="${S}" viewBox="0 0 ${S} ${S}">`, `<rect width="${S}" height="${S}" fill="white"/>`];
  if (o.title) parts.push(`<text x="6" y="14" font-family="sans-serif" font-size="11">${escapeXml(o.title)}</text>`);
  const T = Array.from({ length: frames }, (_, t) => t);
  for (const [a, b] of bonesFor(joints, bodies)) {
    const p0 = T.map((t) => px(t, a)), p1 = T.map((t) => px(t, b));
    parts.push(`<line x1="${f1(p0[0]![0])}" y1="${f1(p0[0]![1])}" x2="${f1(p1[0]![0])}" y2="${f1(p1[0]![1])}" stroke="#555" stroke-width="2">` +
      anim('x1', p0.map((p) => f1(p[0]))) + anim('y1', p0.map((p) => f1(p[1]))) + anim('x2', p1.map((p) => f1(p[0]))) + anim('y2', p1.map((p) => f1(p[1]))) + '</line>');
  }
  for (let j = 0; j < nj; j++) {
    const p = T.map((t) => px(t, j));
    const r = w ? 2.5 + 4 * w[j]! : 3;
    parts.push(`<circle cx="${f1(p[0]![0])}" cy="${f1(p[0]![1])}" r="${r.toFixed(1)}" fill="${w ? heat(w[j]!) : '#1f77b4'}">` + anim('cx', p.map((q) => f1(q[0]))) + anim('cy', p.map((q) => f1(q[1]))) + '</circle>');
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export interface AttentionFigureOptions {
  /** per-frame, per-joint weights [T][J·M] */
  jointsByFrame: number[][];
  /** per-frame weights [T] */
  frameWeights: number[];
  title?: string;
  /** panels shown (frames evenly chosen) */
  panels?: number;
  panelSize?: number;
}

/** The explainability figure: one panel per frame, joints coloured by attention, frame bar below. */
export function attentionFigureSvg(pose: Float32Array, frames: number, joints: number, bodies: number, o: AttentionFigureOptions): string {
  const nj = joints * bodies, P = Math.min(o.panels ?? frames, frames), S = o.panelSize ?? 120;
  const W = Math.max(P * S, 560), H = S + 48 + 34;
  const { px } = projector(pose, frames, nj, S, S, 12);
  const all = o.jointsByFrame.flat();
  const lo = Math.min(...all), hi = Math.max(...all);
  const fw = norm01(o.frameWeights);
  const fwMax = Math.max(...o.frameWeights);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(`<text x="4" y="12" font-family="sans-serif" font-size="11">${escapeXml(o.title ?? 'joint (colour) and frame (bar) attention, last block')}</text>`);
  for (let i = 0; i < P; i++) {
    const t = Math.min(frames - 1, Math.floor(((i + 0.5) * frames) / P));
    const ox = i * S, oy = 16;
    parts.push(`<rect x="${ox + 1}" y="${oy}" width="${S - 2}" height="${S}" fill="${heat(fw[t]!)}" fill-opacity="0.12" stroke="#ccc"/>`);
    for (const [a, b] of bonesFor(joints, bodies)) {
      const [x0, y0] = px(t, a), [x1, y1] = px(t, b);
      parts.push(`<line x1="${f1(ox + x0)}" y1="${f1(oy + y0)}" x2="${f1(ox + x1)}" y2="${f1(oy + y1)}" stroke="#777" stroke-width="1.5"/>`);
    }
    for (let j = 0; j < nj; j++) {
      const w = hi > lo ? (o.jointsByFrame[t]![j]! - lo) / (hi - lo) : 0.5;
      const [x, y] = px(t, j);
      parts.push(`<circle cx="${f1(ox + x)}" cy="${f1(oy + y)}" r="${(2 + 4 * w).toFixed(1)}" fill="${heat(w)}"/>`);
    }
    const bh = fwMax > 0 ? (24 * o.frameWeights[t]!) / fwMax : 0;
    parts.push(`<rect x="${ox + S / 2 - 10}" y="${(oy + S + 28 - bh).toFixed(1)}" width="20" height="${bh.toFixed(1)}" fill="${heat(fw[t]!)}"/>`);
    parts.push(`<text x="${ox + 4}" y="${oy + S - 4}" font-family="sans-serif" font-size="9">t=${t}</text>`);
  }
  parts.push(attentionLegend(H - 24));
  parts.push('</svg>');
  return parts.join('\n');
}

/** The key of the attention figure at height y: the colour scale of the weights, what the joints and the bars show. */
function attentionLegend(y: number): string {
  const stops = Array.from({ length: 9 }, (_, i) => `<stop offset="${i / 8}" stop-color="${heat(i / 8)}"/>`).join('');
  const text = (x: number, t: string) => `<text class="legend" x="${x}" y="${y + 11}" font-family="sans-serif" font-size="10">${escapeXml(t)}</text>`;
  return [
    `<defs><linearGradient id="attn-scale" x1="0" x2="1" y1="0" y2="0">${stops}</linearGradient></defs>`,
    text(4, 'attention weight: low'),
    `<rect x="112" y="${y + 2}" width="120" height="11" fill="url(#attn-scale)" stroke="#999"/>`,
    text(238, 'high'),
    text(272, '· joints: colour and size; bars: weight of the frame'),
  ].join('\n');
}

export async function svgPng(svg: string): Promise<Buffer> { return svgToPng(svg, 96); }

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** One clip of skeletons.json: joints per frame [T][J·M][x, y, z] (null where a joint is absent or its body is zero padding), its true and predicted class. */
export interface SkeletonClip {
  name: string;
  /** the true class name, null when unknown */
  label: string | null;
  predicted: string;
  /** softmax probability of the predicted class */
  probability: number;
  frames: ((number | null)[] | null)[][];
}

/** skeletons.json: the clips the dashboard's skeleton viewer plays (web/viewers/skeleton.js). */
export interface SkeletonClips {
  format: 'paperlab-action-skeletons-1';
  fps: number;
  /** joints per body and bodies; a frame lists joints·bodies joints, body m's joint j at m·joints + j */
  joints: number;
  bodies: number;
  /** bone pairs as joint indices into a frame's list (all bodies) */
  bones: [number, number][];
  classNames: string[];
  clips: SkeletonClip[];
}

const r4 = (v: number) => (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : null);

/**
 * The skeleton clips as JSON: poses [T·(J·M)·3] (x right, y up, z), the model's logits [N·K] for
 * them, names of the K classes.
 */
export function skeletonClips(
  samples: { name: string; label: number; pose: Float32Array }[], logits: ArrayLike<number>, shape: { frames: number; joints: number; bodies: number },
  classNames: string[], fps = 8,
): SkeletonClips {
  const K = classNames.length, nj = shape.joints * shape.bodies;
  const clips = samples.map((s, i) => {
    const row = Array.from({ length: K }, (_, k) => Number(logits[i * K + k]));
    const mx = Math.max(...row), ex = row.map((v) => Math.exp(v - mx)), z = ex.reduce((a, b) => a + b, 0);
    const best = row.indexOf(mx);
    // a body whose joints are all exactly 0 in a frame is padding (PySKL's FormatGCNInput): absent
    const padded = (t: number, m: number) => {
      for (let k = (t * nj + m * shape.joints) * 3; k < (t * nj + (m + 1) * shape.joints) * 3; k++) if (s.pose[k] !== 0) return false;
      return true;
    };
    const frames = Array.from({ length: shape.frames }, (_, t) => Array.from({ length: nj }, (_, j) => {
      const o = (t * nj + j) * 3, x = s.pose[o]!, y = s.pose[o + 1]!, zz = s.pose[o + 2]!;
      return Number.isFinite(x + y) && !padded(t, Math.floor(j / shape.joints)) ? [r4(x), r4(y), r4(zz)] : null;
    }));
    return {
      name: s.name, label: s.label >= 0 ? classNames[s.label] ?? null : null,
      predicted: classNames[best]!, probability: Math.round((ex[best]! / z) * 1e4) / 1e4,
      frames,
    };
  });
  return { format: 'paperlab-action-skeletons-1', fps, joints: shape.joints, bodies: shape.bodies, bones: bonesFor(shape.joints, shape.bodies), classNames, clips };
}
