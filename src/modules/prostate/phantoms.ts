// Seeded synthetic bpMRI phantoms with known zones and lesions, written as a real
// PI-CAI layout. The anatomy is defined analytically in world millimetres, so every sequence can be
// sampled on its own grid (ADC/HBV coarser than T2W, as in the real data).
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../../core/rng.ts';
import { makeVolume, type Volume } from './volume.ts';
import { LAYOUT, writeImage, writeMarksheet, makeFolds, type MarksheetRow } from './picai.ts';

export interface PhantomOptions {
  /** T2W voxels [nx, ny, nz] */
  dims?: [number, number, number];
  /** T2W spacing mm [sx, sy, sz] (3.0×0.5×0.5 z,y,x by default; 0.3,0.3,3.6 exercises resampling) */
  spacing?: [number, number, number];
  /** lesion volume range in T2W voxels */
  lesionVoxels?: [number, number];
  /** probability that a case holds csPCa */
  positiveRate?: number;
  /** probability of a benign lesion-mimicking blob */
  mimicRate?: number;
  /** Rician noise sigma relative to the gland signal */
  noise?: number;
}

interface Ellipsoid { c: [number, number, number]; r: [number, number, number] }
export interface PhantomAnatomy {
  gland: Ellipsoid;
  lesions: (Ellipsoid & { isup: number; zone: 1 | 2 })[];
  mimics: Ellipsoid[];
  bias: [number, number, number, number];
  /** intensity scale per case (scanner variation) */
  gain: number;
}

const inside = (e: Ellipsoid, p: number[]) => {
  const a = (p[0]! - e.c[0]) / e.r[0], b = (p[1]! - e.c[1]) / e.r[1], c = (p[2]! - e.c[2]) / e.r[2];
  return a * a + b * b + c * c;
};

/** Zone of a world point: 0 outside, 1 PZ (posterior crescent shell), 2 TZ (central core and rest). */
export function zoneAt(g: Ellipsoid, p: number[]): 0 | 1 | 2 {
  const r2 = inside(g, p);
  if (r2 > 1) return 0;
  const yn = (p[1]! - g.c[1]) / g.r[1]; // +y = posterior in LPS
  // PZ: outer shell of the posterior half (a crescent), TZ: the rest
  return yn > -0.15 && r2 > 0.36 ? 1 : 2;
}

function grid(dims: [number, number, number], spacing: [number, number, number], shift: [number, number, number] = [0, 0, 0]) {
  const origin = dims.map((d, i) => -((d - 1) * spacing[i]!) / 2 + shift[i]!) as [number, number, number];
  return { dims, spacing, origin };
}

/** Draws one case's anatomy in world mm for a T2W field of view. */
export function drawAnatomy(
  rng: Rng,
  fov: [number, number, number],
  positive: boolean,
  o: PhantomOptions,
  t2Spacing: [number, number, number],
): PhantomAnatomy {
  const gr: [number, number, number] = [fov[0] * rng.uniform(0.27, 0.33), fov[1] * rng.uniform(0.22, 0.28), fov[2] * rng.uniform(0.3, 0.36)];
  const gc: [number, number, number] = [rng.uniform(-0.04, 0.04) * fov[0], rng.uniform(-0.04, 0.04) * fov[1], rng.uniform(-0.03, 0.03) * fov[2]];
  const gland = { c: gc, r: gr };
  const lesions: PhantomAnatomy['lesions'] = [];
  const [vmin, vmax] = o.lesionVoxels ?? [40, 400];
  const voxVol = t2Spacing[0] * t2Spacing[1] * t2Spacing[2];
  const nLes = positive ? (rng.random() < 0.7 ? 1 : 2) : 0;
  for (let l = 0; l < nLes; l++) {
    const zone: 1 | 2 = rng.random() < 0.7 ? 1 : 2;
    const volMm = rng.uniform(vmin, vmax) * voxVol;
    const rz = Math.min(gr[2] * 0.5, Math.max(1.5 * t2Spacing[2] * 0.5 + 1, Math.cbrt(volMm) * 0.9));
    const rxy = Math.sqrt(volMm / ((4 / 3) * Math.PI * rz));
    // centre: rejection-sample a point of the wanted zone, away from earlier lesions
    let c: [number, number, number] = [...gc];
    for (let tries = 0; tries < 500; tries++) {
      const p: [number, number, number] = [gc[0] + rng.uniform(-1, 1) * gr[0], gc[1] + rng.uniform(-1, 1) * gr[1], gc[2] + rng.uniform(-0.6, 0.6) * gr[2]];
      const farEnough = lesions.every((e) => Math.hypot(e.c[0] - p[0], e.c[1] - p[1], (e.c[2] - p[2]) / 2) > e.r[0] + rxy + 2);
      if (zoneAt(gland, p) === zone && farEnough) { c = p; break; }
    }
    lesions.push({ c, r: [rxy * rng.uniform(0.85, 1.15), rxy * rng.uniform(0.85, 1.15), rz], isup: 2 + rng.int(0, 4), zone });
  }
  const mimics: Ellipsoid[] = [];
  if (rng.random() < (o.mimicRate ?? 0.3)) {
    const p: [number, number, number] = [gc[0] + rng.uniform(-0.4, 0.4) * gr[0], gc[1] + rng.uniform(-0.6, 0.1) * gr[1], gc[2]];
    const r = Math.sqrt(((vmin + vmax) / 2) * voxVol / ((4 / 3) * Math.PI * 3));
    mimics.push({ c: p, r: [r, r, 3] });
  }
  return {
    gland, lesions, mimics,
    bias: [rng.uniform(-0.15, 0.15), rng.uniform(-0.15, 0.15), rng.uniform(-0.1, 0.1), rng.uniform(0, Math.PI)],
    gain: rng.uniform(0.85, 1.15),
  };
}

type Seq = 't2w' | 'adc' | 'hbv';
// tissue intensities: [background tissue, PZ, TZ, lesion, benign mimic]
const TISSUE: Record<Seq, [number, number, number, number, number]> = {
  t2w: [280, 900, 620, 330, 380],
  adc: [1100, 1600, 1350, 800, 1150],
  hbv: [6, 10, 9, 26, 12],
};

/** Renders one sequence of a case on a grid (Rician noise, smooth bias field). */
export function renderSequence(
  a: PhantomAnatomy,
  seq: Seq,
  g: { dims: [number, number, number]; spacing: [number, number, number]; origin: [number, number, number] },
  rng: Rng,
  noise: number,
): Float32Array {
  const [nx, ny, nz] = g.dims;
  const out = new Float32Array(nx * ny * nz);
  const T = TISSUE[seq];
  const sigma = noise * T[1];
  const fov = g.dims.map((d, i) => d * g.spacing[i]!);
  let o = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, o++) {
    const p = [g.origin[0] + i * g.spacing[0], g.origin[1] + j * g.spacing[1], g.origin[2] + k * g.spacing[2]];
    const z = zoneAt(a.gland, p);
    let s = z === 0 ? T[0] : z === 1 ? T[1] : T[2];
    if (z > 0) for (const m of a.mimics) if (inside(m, p) <= 1) s = T[4];
    if (z > 0) for (const l of a.lesions) if (inside(l, p) <= 1) s = T[3];
    const bias = 1 + a.bias[0] * Math.sin(p[0]! / fov[0]! * Math.PI + a.bias[3])
      + a.bias[1] * Math.cos(p[1]! / fov[1]! * Math.PI) + a.bias[2] * p[2]! / fov[2]!;
    const v = s * a.gain * (seq === 'adc' ? 1 : bias); // ADC is quantitative: no coil bias
    const n1 = rng.normal(0, sigma), n2 = rng.normal(0, sigma);
    out[o] = Math.sqrt((v + n1) ** 2 + n2 * n2);
  }
  return out;
}

export interface PhantomCase {
  key: string;
  t2w: Volume; adc: Volume; hbv: Volume;
  /** ISUP-valued lesion label on the T2W grid */
  label: Volume;
  zones: Volume;
  gland: Volume;
  anatomy: PhantomAnatomy;
  positive: boolean;
}

/** One phantom case (seeded by rng). */
export function makePhantomCase(rng: Rng, key: string, positive: boolean, o: PhantomOptions = {}): PhantomCase {
  const dims = o.dims ?? [64, 64, 16];
  const spacing = o.spacing ?? [0.5, 0.5, 3.0];
  const fov = dims.map((d, i) => d * spacing[i]!) as [number, number, number];
  const a = drawAnatomy(rng, fov, positive, o, spacing);
  const t2g = grid(dims, spacing);
  // ADC/HBV: half the in-plane resolution, shifted by a fraction of a voxel (forces resampling)
  const dg = grid(
    [Math.ceil(dims[0] / 2), Math.ceil(dims[1] / 2), dims[2]], [spacing[0] * 2, spacing[1] * 2, spacing[2]],
    [spacing[0] * 0.3, -spacing[1] * 0.2, 0],
  );
  const noise = o.noise ?? 0.06;
  const vol = (
    data: Float32Array | Uint8Array, g: typeof t2g, meta: Record<string, string> = {},
  ) => makeVolume(g.dims, { data, spacing: g.spacing, origin: g.origin, meta });
  const t2w = vol(renderSequence(a, 't2w', t2g, rng, noise), t2g, { '0008|0070': 'PHANTOM', PSA_REPORT: 'nan' });
  const adc = vol(renderSequence(a, 'adc', dg, rng, noise), dg);
  const hbv = vol(renderSequence(a, 'hbv', dg, rng, noise * 2), dg);
  const n = dims[0] * dims[1] * dims[2];
  const lab = new Uint8Array(n), zon = new Uint8Array(n), gl = new Uint8Array(n);
  let idx = 0;
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, idx++) {
    const p = [t2g.origin[0] + i * spacing[0], t2g.origin[1] + j * spacing[1], t2g.origin[2] + k * spacing[2]];
    const z = zoneAt(a.gland, p);
    zon[idx] = z; gl[idx] = z > 0 ? 1 : 0;
    if (z > 0) for (const l of a.lesions) if (inside(l, p) <= 1) lab[idx] = l.isup;
  }
  return { key, t2w, adc, hbv, label: vol(lab, t2g), zones: vol(zon, t2g), gland: vol(gl, t2g), anatomy: a, positive: a.lesions.length > 0 };
}

export interface PhantomDatasetOptions extends PhantomOptions {
  cases?: number;
  seed?: number;
  folds?: number;
  /** write every other case's MetaImage files uncompressed (both payload kinds in one dataset) */
  mixCompression?: boolean;
}

/**
 * Writes a PI-CAI layout of phantom cases under `root`: images/*.mha, expert lesion labels (ISUP
 * 2–5) and AI zonal/whole-gland masks as .nii.gz, marksheet.csv and labels/folds.json
 * (patient-grouped). Returns the case keys and folds.
 */
export function writePhantomDataset(
  root: string,
  o: PhantomDatasetOptions = {},
  onCase?: (i: number) => void,
): { keys: string[]; folds: string[][]; positives: number } {
  const rng = new Rng(o.seed ?? 0);
  const nCases = o.cases ?? 20;
  const rows: MarksheetRow[] = [];
  const keys: string[] = [];
  let positives = 0;
  let pid = 10000, sid = 1000000;
  for (let c = 0; c < nCases; c++) {
    // ~1 in 8 patients has a second study (a repeat scan), so folds must group by patient
    if (!(c > 0 && rng.random() < 0.12)) pid++;
    sid++;
    const key = `${pid}_${sid}`;
    const positive = rng.random() < (o.positiveRate ?? 0.5);
    const pc = makePhantomCase(rng.fork(c), key, positive, o);
    const dir = path.join(root, LAYOUT.images, String(pid));
    fs.mkdirSync(dir, { recursive: true });
    const compress = !(o.mixCompression ?? true) || c % 2 === 0;
    writeImage(path.join(dir, `${key}_t2w.mha`), pc.t2w, { compress });
    writeImage(path.join(dir, `${key}_adc.mha`), pc.adc, { compress: !compress });
    writeImage(path.join(dir, `${key}_hbv.mha`), pc.hbv, { compress });
    for (const [d, v] of [[LAYOUT.lesionsExpert, pc.label], [LAYOUT.zones, pc.zones], [LAYOUT.gland, pc.gland]] as const) {
      fs.mkdirSync(path.join(root, d), { recursive: true });
      writeImage(path.join(root, d, `${key}.nii.gz`), v);
    }
    const isups = pc.anatomy.lesions.map((l) => l.isup);
    const gs = (i: number) => ({ 2: '3+4', 3: '4+3', 4: '4+4', 5: '4+5' } as Record<number, string>)[i]!;
    const vol = (4 / 3) * Math.PI * pc.anatomy.gland.r.reduce((a, b) => a * b, 1) / 1000;
    const psa = Number(rng.uniform(2, positive ? 20 : 10).toFixed(1));
    rows.push({
      patient_id: String(pid), study_id: String(sid), mri_date: `2020-0${1 + (c % 9)}-1${c % 10}`, patient_age: 55 + rng.int(0, 25),
      psa, psad: Number((psa / Math.max(vol, 1)).toFixed(2)), prostate_volume: Number(vol.toFixed(1)),
      histopath_type: positive ? 'MRBx' : c % 3 === 0 ? '' : 'SysBx', lesion_PIRADS: positive ? isups.map(() => '4') : [],
      lesion_GS: positive ? isups.map(gs) : [], lesion_ISUP: isups,
      case_ISUP: positive ? Math.max(...isups) : 0, case_csPCa: pc.positive ? 'YES' : 'NO', center: ['RUMC', 'ZGT', 'PCNN'][c % 3],
    });
    keys.push(key);
    if (pc.positive) positives++;
    onCase?.(c);
  }
  writeMarksheet(path.join(root, LAYOUT.marksheet), rows);
  const folds = makeFolds(keys, o.folds ?? 5, o.seed ?? 0, new Set(rows.filter((r) => r.case_csPCa === 'YES').map((r) => `${r.patient_id}_${r.study_id}`)));
  fs.writeFileSync(path.join(root, LAYOUT.folds), JSON.stringify(folds));
  return { keys, folds, positives };
}
