// The precision choices of the trainers' --precision option, apart from the engine so a command's
// schema can name them without loading libtorch (test/core/lazy.test.ts).
import { z } from 'zod';

/** 32: float32 throughout; bf16: autocast to bfloat16 (CPU and CUDA); 16-mixed: autocast to float16 with a GradScaler (CUDA). */
export const PRECISIONS = ['32', 'bf16', '16-mixed'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** The `precision` parameter of a train command (default full precision). */
export const precisionParam = () => z.enum(PRECISIONS).default('32')
  .describe('training precision: 32 (float32), bf16 (autocast bfloat16; CPU or CUDA), 16-mixed (autocast float16 + loss scaling; CUDA only)');
