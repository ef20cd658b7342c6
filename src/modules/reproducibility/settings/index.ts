// The experiments of `sweep`, one per setting (E1–E7; README.md lists what each checks), and their
// measurement counts. Each runs at a scale whose sizes come from SWEEP_PRESETS (config.ts).
import { SWEEP_PRESETS, type Scale, type SettingName } from '../config.ts';
import type { SweepContext, SettingResult } from './context.ts';
import { settingSmoothInit, settingSmoothGradient } from './smooth.ts';
import { settingStochastic } from './stochastic.ts';
import { settingStronglyConvex } from './strongly-convex.ts';
import { settingNonsmooth } from './nonsmooth.ts';
import { settingFollowup } from './followup.ts';
import { settingFiniteSum } from './finite-sum.ts';

export type { SweepContext, SettingResult, PlotSpec } from './context.ts';
export { settingSmoothInit, settingSmoothGradient, settingStochastic, settingStronglyConvex, settingNonsmooth, settingFollowup, settingFiniteSum };
export { stochasticConfig, type StochasticConfig } from './stochastic.ts';

export const SETTING_RUNNERS: Record<SettingName, (ctx: SweepContext) => SettingResult> = {
  'smooth-init': settingSmoothInit,
  'smooth-gradient': settingSmoothGradient,
  stochastic: settingStochastic,
  'strongly-convex': settingStronglyConvex,
  nonsmooth: settingNonsmooth,
  'finite-sum': settingFiniteSum,
  followup: settingFollowup,
};

/** Number of measurements a setting makes at a scale (for progress bars). */
export function measurementCount(s: SettingName, scale: Scale): number {
  const p = SWEEP_PRESETS[scale];
  switch (s) {
    case 'smooth-init': return 4 * 2; // four methods × two init modes
    case 'smooth-gradient': return 2 * p.smoothGradient.Ts.length + 2 * p.smoothGradient.epss.length;
    case 'stochastic': return 2 * p.stochastic.Ts.length + p.stochastic.deltas.length + p.stochastic.epss.length;
    case 'strongly-convex': return p.stronglyConvex.initFractions.length + p.stronglyConvex.Ts.length + p.stronglyConvex.deltas.length;
    case 'nonsmooth': return 2 * p.nonsmooth.Ts.length;
    case 'followup': return 4; // GD, AGD, Reg-GD, Reg-AGD
    case 'finite-sum': return 3 * p.finiteSum.Ts.length;
  }
}
