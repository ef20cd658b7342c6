// Mixed precision for the trainers: `--precision 32 | bf16 | 16-mixed` (the Weather4cast starter
// kit's Lightning names). bf16 runs the forward under libtorch's autocast in bfloat16 (CPU and
// CUDA; no loss scaling needed: bfloat16 has float32's exponent range); 16-mixed runs it in
// float16 (CUDA only: libtorch 1.13's CPU autocast does bfloat16 only) with a GradScaler, as
// torch.cuda.amp. Parameters, gradients and the optimizer state stay float32 in every mode.
import { autocast, deviceType, noGrad, scope, stack, type Tensor } from '../torch/tensor.ts';
import type { Optimizer } from '../torch/optim.ts';
import { UsageError } from '../errors.ts';
import { PRECISIONS, type Precision } from './precision.ts';

export { PRECISIONS, type Precision };

export interface GradScalerOptions {
  /** the first loss scale (torch: 2**16) */
  initScale?: number;
  /** scale *= growthFactor after growthInterval steps without inf/NaN gradients (torch: 2, 2000) */
  growthFactor?: number;
  growthInterval?: number;
  /** scale *= backoffFactor after a step with inf/NaN gradients (torch: 0.5) */
  backoffFactor?: number;
}

/**
 * torch.cuda.amp.GradScaler: multiplies the loss by a dynamic scale so float16 gradients do not
 * underflow, unscales the gradients before the optimizer step, skips the step when any gradient is
 * inf or NaN and then lowers the scale (backoff); after `growthInterval` clean steps it raises it.
 * Use: scaler.scale(loss).backward(); [scaler.unscale_(opt); clip]; scaler.step(opt); scaler.update().
 */
export class GradScaler {
  scale_: number;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  growthTracker = 0;
  private readonly foundInf = new Map<Optimizer, boolean>(); // this step's optimizers, unscaled
  constructor(o: GradScalerOptions = {}) {
    this.scale_ = o.initScale ?? 2 ** 16;
    this.growthFactor = o.growthFactor ?? 2;
    this.backoffFactor = o.backoffFactor ?? 0.5;
    this.growthInterval = o.growthInterval ?? 2000;
    if (!(this.scale_ > 0 && this.growthFactor > 1 && this.backoffFactor > 0 && this.backoffFactor < 1 && this.growthInterval >= 1)) {
      throw new UsageError('GradScaler: needs initScale > 0, growthFactor > 1, 0 < backoffFactor < 1, growthInterval >= 1');
    }
  }
  /** The scaled loss (loss × scale): call backward() on it. */
  scale(loss: Tensor): Tensor { return loss.mul(this.scale_); }
  /** Divides the optimizer's gradients by the scale (once per step) and notes inf/NaN among them. */
  unscale_(opt: Optimizer): void {
    if (this.foundInf.has(opt)) return;
    const grads = opt.params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    this.foundInf.set(opt, noGrad(() => scope(() => {
      for (const g of grads) g.mul_(1 / this.scale_);
      if (!grads.length) return false;
      return !stack(grads.map((g) => g.isfinite().all())).all().item();
    })));
  }
  /** opt.step() unless a gradient is inf/NaN; returns whether the step was taken. */
  step(opt: Optimizer): boolean {
    this.unscale_(opt);
    if (this.foundInf.get(opt)) return false;
    opt.step();
    return true;
  }
  /** Adjusts the scale after the step: backoff on inf/NaN, growth after growthInterval clean steps. */
  update(): void {
    if (!this.foundInf.size) return;
    if ([...this.foundInf.values()].some(Boolean)) {
      this.scale_ *= this.backoffFactor;
      this.growthTracker = 0;
    } else if (++this.growthTracker >= this.growthInterval) {
      this.scale_ *= this.growthFactor;
      this.growthTracker = 0;
    }
    this.foundInf.clear();
  }
  /** {scale, growthTracker} for a checkpoint's `extra` (torch's state_dict keys, camel-cased). */
  stateDict(): { scale: number; growthTracker: number } { return { scale: this.scale_, growthTracker: this.growthTracker }; }
  loadStateDict(s: { scale?: unknown; growthTracker?: unknown }): void {
    if (typeof s.scale === 'number' && s.scale > 0) this.scale_ = s.scale;
    if (typeof s.growthTracker === 'number' && s.growthTracker >= 0) this.growthTracker = s.growthTracker;
  }
}

/**
 * One object a trainer asks for the mixed-precision parts of its step, so '32' costs nothing:
 *   const amp = new MixedPrecision(p.precision, ctx.device);
 *   const loss = amp.autocast(() => lossOf(model.forward(x)));
 *   amp.backward(loss); amp.unscale(opt); clipGradNorm(...); amp.step(opt);
 */
export class MixedPrecision {
  readonly dtype: 'float16' | 'bfloat16' | null;
  readonly scaler: GradScaler | null;
  constructor(readonly precision: Precision, readonly device: string, scaler: GradScalerOptions = {}) {
    if (!PRECISIONS.includes(precision)) throw new UsageError(`--precision must be one of ${PRECISIONS.join(', ')}, got '${precision}'`);
    if (precision === '16-mixed' && deviceType(device) !== 'cuda') {
      throw new UsageError(`--precision 16-mixed needs a CUDA device (libtorch's CPU autocast runs bfloat16 only): use --precision bf16 on ${device}`);
    }
    this.dtype = precision === 'bf16' ? 'bfloat16' : precision === '16-mixed' ? 'float16' : null;
    this.scaler = precision === '16-mixed' ? new GradScaler(scaler) : null;
  }
  /** Runs the forward (and loss) under autocast; fn as is in full precision. */
  autocast<T>(fn: () => T): T {
    return this.dtype ? autocast(this.device, this.dtype, fn) : fn();
  }
  /** loss.backward(), on the scaled loss for 16-mixed (the loss is cast to float32 first). */
  backward(loss: Tensor): void {
    if (!this.scaler) { loss.backward(); return; }
    scope(() => this.scaler!.scale(loss.dtype === 'float32' ? loss : loss.float()).backward());
  }
  /** Unscales the gradients (before clipping them); a no-op without a scaler. */
  unscale(opt: Optimizer): void { this.scaler?.unscale_(opt); }
  /** The optimizer step (skipped on inf/NaN gradients under 16-mixed) and the scale update. */
  step(opt: Optimizer): boolean {
    if (!this.scaler) { opt.step(); return true; }
    const took = this.scaler.step(opt);
    this.scaler.update();
    return took;
  }
}
