// action's commands: the parameter schemas (defaults from config.ts presets) and a run that imports
// the implementation (experiments.ts) only when the command runs.
import { z } from 'zod';
import { precisionParam } from '../../core/train/precision.ts';
import { registerModule, defineCommand, type MetricSpec } from '../../core/registry.ts';
import { AVERAGE_CLIPS, FEATS, HEAD_MODES, JOINT_GROUPINGS, MODALITIES, NTU_PROTOCOLS, SYNTH_CLASSES, defaults, presets } from './config.ts';

const impl = () => import('./experiments.ts');

const d = defaults.data;
export const dataParams = {
  data: z.string().default(d.data).describe("'synthetic', 'ntu:<folder of .skeleton files>', 'penn:<Penn Action root>' or 'json:<folder with train/ and test/ keypoint records>'").meta({ path: 'input', pathSchemes: ['ntu', 'penn', 'json'], notPath: '^synthetic$' }),
  modality: z.enum(MODALITIES).default(d.modality).describe('use RGB frames and pose, or pose only'),
  frames: z.number().int().min(2).max(256).default(d.frames).describe('frames T per clip'),
  imgSize: z.number().int().min(8).max(256).default(d.imgSize).describe('RGB crop side in pixels'),
  nTrain: z.number().int().min(1).default(d.nTrain).describe('synthetic: training clips'),
  nTest: z.number().int().min(1).default(d.nTest).describe('synthetic: test clips (drawn from another seed)'),
  numClasses: z.number().int().min(2).max(SYNTH_CLASSES.length).default(d.numClasses).describe(`synthetic: classes (${SYNTH_CLASSES.join(', ')})`),
  protocol: z.enum(NTU_PROTOCOLS).default(d.protocol).describe('NTU split protocol'),
  bodies: z.number().int().min(1).max(4).default(d.bodies).describe('NTU: bodies kept per clip (main actor first)'),
  framesDir: z.string().optional().describe('folder with one PNG/JPEG frame folder per sample name (RGB for NTU/Penn)').meta({ path: 'input' }),
  ignoreList: z.string().optional().describe('NTU: file listing samples to skip (missing skeletons)').meta({ path: 'input' }),
  limit: z.number().int().min(1).optional().describe('at most this many samples per split (all when omitted)'),
  annotations: z.string().optional().describe("a PySKL annotation file ({'split', 'annotations'} pickle, e.g. ntu60_3danno.pkl, ntu60_hrnet.pkl); replaces --data").meta({ path: 'input' }),
  split: z.string().default(d.split).describe("PySKL file: split name, 'xsub' → xsub_train/xsub_val (xview, xset likewise), or a 'train/test' pair as written (train1/test1)"),
  numClips: z.number().int().min(1).default(d.numClips).describe('test clips per sample, scores averaged (PySKL files: UniformSampleFrames with seed 255; other data: 1)'),
  average: z.enum(AVERAGE_CLIPS).default(d.average).describe("how a sample's clip scores are averaged: prob (softmax, PySKL's default) or score (logits)"),
};

/** The input streams (train; evaluate reads them from the model). */
const featsParam = {
  feats: z.array(z.enum(FEATS)).min(1).default(() => [...d.feats]).describe('PySKL file: input streams, comma-separated: j (joints), b (bones), jm / bm (their motion); one model per stream, fused with `action fuse`'),
};

const m = defaults.model;
export const modelParams = {
  dim: z.number().int().min(4).default(m.dim).describe('token width D'),
  heads: z.number().int().min(1).default(m.heads).describe('attention heads'),
  depth: z.number().int().min(1).default(m.depth).describe('blocks L'),
  mlpRatio: z.number().positive().default(m.mlpRatio).describe('MLP hidden width / D'),
  jointGrouping: z.enum(JOINT_GROUPINGS).default(m.jointGrouping).describe('[recon] joint groups: index stride or NTU body parts'),
  jointStride: z.number().int().min(1).default(m.jointStride).describe('s_j of local joint-stride attention'),
  temporalStride: z.number().int().min(1).default(m.temporalStride).describe('s_t of temporal-stride attention'),
  offsetGroups: z.number().int().min(1).default(m.offsetGroups).describe('[recon] offset fields (1 = shared across heads)'),
  offsetRange: z.number().positive().default(m.offsetRange).describe('[recon] offset range s in grid cells'),
  learnOffsets: z.boolean().default(m.learnOffsets).describe('false freezes offsets at zero (uniform grid)'),
  head: z.enum(HEAD_MODES).default(m.head).describe('[recon] classifier on concat or sum of the cross-modal tokens'),
};

const t = defaults.train;
export const trainingParams = {
  epochs: z.number().int().min(1).default(t.epochs).describe('epochs'),
  batchSize: z.number().int().min(1).default(t.batchSize).describe('batch size'),
  lr: z.number().positive().default(t.lr).describe('AdamW learning rate (cosine schedule, 5% warm-up)'),
  weightDecay: z.number().min(0).default(t.weightDecay).describe('AdamW weight decay'),
  labelSmoothing: z.number().min(0).max(1).default(t.labelSmoothing).describe('label smoothing of the cross-entropy'),
  augment: z.boolean().default(t.augment).describe('pose augmentation (rotation, scale, jitter, temporal crop)'),
};

const modelFile = () => z.string().describe('model.safetensors or the run folder of action train').meta({ path: 'input' });
const clipInput = () => z.string().describe('a .skeleton file, a Penn Action .mat/.json, or synthetic:<class>').meta({ path: 'input', notPath: '^synthetic:' });
const clipFrames = () => z.string().optional().describe('PNG/JPEG frames of the clip (RGB models)').meta({ path: 'input' });

export const trainParams = z.object({ ...dataParams, ...featsParam, ...modelParams, ...trainingParams, precision: precisionParam() });
export type TrainParams = z.infer<typeof trainParams>;

/** the per-epoch training metrics (train and quick) */
const TRAIN_METRICS: MetricSpec[] = [
  { name: 'loss', label: 'training loss (cross-entropy)', x: 'epoch', scale: 'log' },
  { name: 'trainAcc', label: 'train accuracy', x: 'epoch', scale: 'linear' },
  { name: 'lr', label: 'learning rate', x: 'epoch', scale: 'linear' },
];

export const train = defineCommand({
  name: 'train',
  description: 'train from scratch (synthetic, ntu:<dir>, penn:<dir>, json:<dir>, --annotations <PySKL .pkl>); top-1/top-5, confusion matrix, attention maps',
  resumable: true,
  params: trainParams,
  metrics: TRAIN_METRICS,
  run: async (p, ctx) => (await impl()).train(p, ctx),
});

export const evaluateParams = z.object({ model: modelFile(), ...dataParams });
export type EvaluateParams = z.infer<typeof evaluateParams>;

export const evaluate = defineCommand({
  name: 'evaluate',
  description: 'top-1/top-5, mean class accuracy and confusion matrix of a trained model on a test split',
  positional: ['model'],
  params: evaluateParams,
  run: async (p, ctx) => (await impl()).evaluate(p, ctx),
});

export const predictParams = z.object({
  model: modelFile(),
  input: clipInput(),
  framesDir: clipFrames(),
  top: z.number().int().min(1).default(defaults.clip.top).describe('classes to list'),
});
export type PredictParams = z.infer<typeof predictParams>;

export const predict = defineCommand({
  name: 'predict',
  description: 'classify one clip (.skeleton, Penn .mat/.json or synthetic:<class>)',
  positional: ['model', 'input'],
  params: predictParams,
  run: async (p, ctx) => (await impl()).predict(p, ctx),
});

export const explainParams = z.object({
  model: modelFile(),
  input: clipInput().default(defaults.clip.input),
  framesDir: clipFrames(),
});
export type ExplainParams = z.infer<typeof explainParams>;

export const explain = defineCommand({
  name: 'explain',
  description: 'joint and frame attention of the last block as JSON, PNG and an animated skeleton SVG',
  positional: ['model', 'input'],
  params: explainParams,
  run: async (p, ctx) => (await impl()).explain(p, ctx),
});

const q = presets.quick;
export const quickParams = z.object({
  numClasses: z.number().int().min(2).max(SYNTH_CLASSES.length).default(q.data.numClasses).describe('synthetic classes'),
  nTrain: z.number().int().min(6).default(q.data.nTrain).describe('training clips'),
  nTest: z.number().int().min(6).default(q.data.nTest).describe('test clips'),
  epochs: z.number().int().min(1).default(q.train.epochs).describe('epochs'),
});
export type QuickParams = z.infer<typeof quickParams>;

export const quick = defineCommand({
  name: 'quick',
  description: 'a few-second pose-only run on synthetic actions (train, evaluate, explain, animate)',
  quick: true,
  params: quickParams,
  metrics: TRAIN_METRICS,
  run: async (p, ctx) => (await impl()).quick(p, ctx),
});

const o = defaults.offsets;
export const offsetsParams = z.object({
  nTrain: z.number().int().min(8).default(o.nTrain).describe('training clips of the blob task'),
  nTest: z.number().int().min(8).default(o.nTest).describe('test clips'),
  epochs: z.number().int().min(1).default(o.epochs).describe('epochs for each model'),
});
export type OffsetsParams = z.infer<typeof offsetsParams>;

export const offsets = defineCommand({
  name: 'offsets',
  description: 'diagnostic: learned 3D offsets vs offsets frozen at zero on an off-grid moving-blob task',
  params: offsetsParams,
  run: async (p, ctx) => (await impl()).offsets(p, ctx),
});

const c = defaults.cost;
export const costParams = z.object({
  frames: z.number().int().min(2).default(c.frames).describe('frames T'),
  temporalStrides: z.array(z.number().int().min(1)).min(1).default(() => [...c.temporalStrides]).describe('s_t values to sweep, comma-separated'),
  jointStrides: z.array(z.number().int().min(1)).min(1).default(() => [...c.jointStrides]).describe('s_j values to sweep, comma-separated (1 = one group: all joints)'),
  repeats: z.number().int().min(1).default(c.repeats).describe('timed forward passes per setting'),
});
export type CostParams = z.infer<typeof costParams>;

export const cost = defineCommand({
  name: 'cost',
  description: 'attention score-matrix sizes and forward time, full vs strided, over s_t and s_j',
  params: costParams,
  run: async (p, ctx) => (await impl()).cost(p, ctx),
});

export const fuseParams = z.object({
  scores: z.string().describe('scores.json of evaluate/train runs (or the run folders), comma-separated: one per stream').meta({ path: 'input', pathList: true }),
  weights: z.array(z.number().min(0)).optional().describe('one weight per file (e.g. 2,2,1,1 for j,b,jm,bm); all 1 when omitted'),
});
export type FuseParams = z.infer<typeof fuseParams>;

export const fuse = defineCommand({
  name: 'fuse',
  description: "late fusion of streams (PySKL's j/b/jm/bm ensemble): weighted sum of several runs' class scores; top-1/top-5 of each and of the fusion",
  positional: ['scores'],
  params: fuseParams,
  run: async (p, ctx) => (await impl()).fuse(p, ctx),
});

registerModule({
  name: 'action',
  title: 'Action recognition: cross-modal 3D deformable transformer',
  description: 'RGB video + pose tokens with two cross-modal tokens; 3D deformable attention (3D token search, trilinear sampling), local joint-stride and temporal-stride attention. Reads NTU RGB+D .skeleton, Penn Action .mat, PySKL annotation pickles (NTU 3D, COCO-17 2D; joint/bone/motion streams, multi-clip testing), PNG/JPEG frame folders; synthetic actions with known classes.',
  papers: ['Kim, Ahn, Ko. Cross-Modal Learning with 3D Deformable Attention for Action Recognition. ICCV 2023 (arXiv 2212.05638)'],
  commands: [train, evaluate, predict, explain, quick, offsets, cost, fuse],
});
