// One factory for every streaming method, by its CLI name (config.ts METHODS).
import type { StreamModel } from '../models.ts';
import { METHODS, type Method } from '../config.ts';
import { ORFit, oneStepSGD } from './orfit.ts';
import { Greedy } from './greedy.ts';
import { OGD } from './ogd.ts';
import { EWRLS } from './rls.ts';
import { KalmanRLS } from './kalman.ts';
import { EWC } from './ewc.ts';
import { AGEM } from './agem.ts';
import type { StreamLearner } from './types.ts';

/** Options that createLearner hands on; anything left out takes the learner's default (config.ts learnerDefaults). */
export interface LearnerConfig {
  /** memory m for the memory-limited ORFit variants (and A-GEM's replay buffer) */
  memory: number;
  seed?: number;
  /** OGD (and EWC / A-GEM inner steps) */
  ogdLr?: number; ogdSteps?: number;
  ewcLambda?: number;
  /** RLS / Kalman */
  lambda?: number; p0?: number; R?: number;
}

export function createLearner(method: Method, model: StreamModel, c: LearnerConfig): StreamLearner {
  switch (method) {
    case 'orfit': return new ORFit(model, { memory: c.memory, rule: 'ipca', name: `orfit (m=${c.memory})` });
    case 'orfit-sort': return new ORFit(model, { memory: c.memory, rule: 'ipca-sort', name: `orfit-sort (m=${c.memory})` });
    case 'orfit-unlimited': return new ORFit(model, { name: 'orfit (unlimited)' });
    case 'orfit-random': return new ORFit(model, { memory: c.memory, rule: 'random', seed: c.seed, name: `orfit-random (m=${c.memory})` });
    case 'orfit-latest': return new ORFit(model, { memory: c.memory, rule: 'latest', name: `orfit-latest (m=${c.memory})` });
    case 'one-step-sgd': return oneStepSGD(model);
    case 'greedy': return new Greedy(model);
    case 'ogd': return new OGD(model, { lr: c.ogdLr, innerSteps: c.ogdSteps });
    case 'rls': return new EWRLS(model, { lambda: c.lambda, p0: c.p0 });
    case 'kalman': return new KalmanRLS(model, { p0: c.p0, R: c.R });
    // [ours] comparators, not in the paper; the default lr suits 784 pixels in [0, 1]
    case 'ewc': return new EWC(model, { lambda: c.ewcLambda, lr: c.ogdLr, innerSteps: c.ogdSteps });
    case 'a-gem': return new AGEM(model, { buffer: c.memory, lr: c.ogdLr, innerSteps: c.ogdSteps });
    default: throw new Error(`unknown method '${method as string}'. Valid methods: ${METHODS.join(', ')}`);
  }
}
