// Module `action`: cross-modal learning with 3D deformable attention for action recognition
// (Kim, Ahn, Ko, ICCV 2023). Registers the CLI commands and exports the typed API.
import { defineCommand, registerModule } from '../../core/registry.ts';
import {
  trainSchema, runTrain, evaluateSchema, runEvaluate, predictSchema, runPredict, explainSchema, runExplain,
  quickSchema, runQuick, offsetsSchema, runOffsets, costSchema, runCost,
} from './experiments.ts';

export * from './model.ts';
export * from './ntu.ts';
export * from './penn.ts';
export * from './data.ts';
export * from './train.ts';
export * from './evaluate.ts';
export * from './render.ts';
export { saveModel, loadModel, offsetAblation, BLOB_MODEL, configFor, buildDataset } from './experiments.ts';

registerModule({
  name: 'action',
  title: 'Action recognition: cross-modal 3D deformable transformer',
  description: 'RGB video + pose tokens with two cross-modal tokens; 3D deformable attention (3D token search, trilinear sampling), local joint-stride and temporal-stride attention. Reads NTU RGB+D .skeleton, Penn Action .mat, PNG/JPEG frame folders; synthetic actions with known classes.',
  papers: ['Kim, Ahn, Ko. Cross-Modal Learning with 3D Deformable Attention for Action Recognition. ICCV 2023 (arXiv 2212.05638)'],
  commands: [
    defineCommand({ name: 'train', description: 'train from scratch (synthetic, ntu:<dir>, penn:<dir>); top-1/top-5, confusion matrix, attention maps', params: trainSchema, resumable: true, run: runTrain }),
    defineCommand({ name: 'evaluate', description: 'top-1/top-5, mean class accuracy and confusion matrix of a trained model on a test split', params: evaluateSchema, positional: ['model'], run: runEvaluate }),
    defineCommand({ name: 'predict', description: 'classify one clip (.skeleton, Penn .mat/.json or synthetic:<class>)', params: predictSchema, positional: ['model', 'input'], run: runPredict }),
    defineCommand({ name: 'explain', description: 'joint and frame attention of the last block as JSON, PNG and an animated skeleton SVG', params: explainSchema, positional: ['model', 'input'], run: runExplain }),
    defineCommand({ name: 'quick', description: 'a few-second pose-only run on synthetic actions (train, evaluate, explain, animate)', params: quickSchema, quick: true, run: runQuick }),
    defineCommand({ name: 'offsets', description: 'diagnostic: learned 3D offsets vs offsets frozen at zero on an off-grid moving-blob task', params: offsetsSchema, run: runOffsets }),
    defineCommand({ name: 'cost', description: 'attention score-matrix sizes and forward time, full vs strided, over s_t and s_j', params: costSchema, run: runCost }),
  ],
});
