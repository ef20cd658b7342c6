// The network: zero-initialised offsets, trilinear sampling against a hand computation, gradient
// through the sampling offsets (finite-difference probe), stride-attention plumbing, pose-only
// mode, input errors, attention maps, no tensor leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import {
  CrossModalTransformer, makeConfig, sampleTrilinear, referenceGrid, attentionCost, jointGroups, tokenShape, gridShape,
  LocalJointStrideAttention, TemporalStrideAttention,
} from '../../../src/modules/action/index.ts';

const TINY = {
  numClasses: 3, frames: 4, joints: 25, dim: 8, heads: 2, depth: 1, imgSize: 8, backboneChannels: [4],
  backboneStrides: [[1, 2, 2]] as [number, number, number][], grid: [2, 2, 2] as [number, number, number],
};

test('offsets start at exactly zero (3D token search last layer zero-initialised)', () => {
  torch.manualSeed(1);
  const m = new CrossModalTransformer(makeConfig({ ...TINY, dtype: 'float64' }));
  const d = m.blocks[0]!.deform!;
  torch.scope(() => {
    const vol = torch.randn([2, 8, 4, 4, 4], { dtype: 'float64' });
    const off = d.offsets(vol);
    assert.deepEqual(off.shape, [2, 1, 2, 2, 2, 3]);
    assert.equal(off.abs().max().item(), 0);
  });
  assert.deepEqual(tokenShape(m.config), [4, 4, 4]);
  assert.deepEqual(gridShape(makeConfig({})), [4, 3, 3]); // default: half of T'×H'×W' = 8×6×6
});

test('trilinear sampling equals a hand computation at an off-grid point', () => {
  torch.scope(() => {
    // vol[t, y, x] = 100 t + 10 y + x (linear, so trilinear interpolation is exact)
    const T = 3, H = 4, W = 5;
    const v: number[] = [];
    for (let t = 0; t < T; t++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) v.push(100 * t + 10 * y + x);
    const vol = torch.tensor(v, { dtype: 'float64' }).reshape([1, 1, T, H, W]);
    // pixel (t, y, x) = (1.25, 2.5, 0.75) → normalised (2p + 1)/n − 1, align_corners=False
    const nrm = (p: number, n: number) => (2 * p + 1) / n - 1;
    const pos = torch.tensor([nrm(1.25, T), nrm(2.5, H), nrm(0.75, W)], { dtype: 'float64' }).reshape([1, 1, 1, 1, 1, 3]);
    const s = sampleTrilinear(vol, pos).item();
    assert.ok(Math.abs(s - (125 + 25 + 0.75)) < 1e-9, `got ${s}`);
    // the reference grid puts points at cell centres: for 2 cells over [-1, 1]: ±0.5
    assert.deepEqual(referenceGrid([1, 2, 2], 'float64').reshape([-1]).toArray(), [0, -0.5, -0.5, 0, -0.5, 0.5, 0, 0.5, -0.5, 0, 0.5, 0.5]);
  });
});

test('trilinear sampling equals the direct trilinear formula at random positions, in and out of bounds, per offset group', () => {
  // Z̃ = Σ over the 8 corners of (t, y, x) of the trilinear weights × Z at the corner, a corner
  // outside the volume contributing 0 (zeros padding) or clamped to the edge (border padding);
  // pixel coordinate u = ((p + 1)·n − 1) / 2 of a normalised p (align_corners=False).
  torch.manualSeed(7);
  const [B, D, T, H, W, g] = [2, 4, 3, 4, 5, 2];
  const pts = [2, 2, 3] as const;
  torch.scope(() => {
    const vol = torch.randn([B, D, T, H, W], { dtype: 'float64' });
    const pos = torch.rand([B, g, ...pts, 3], { dtype: 'float64' }).mul(2.8).sub(1.4); // ~30% of coordinates outside [-1, 1]
    const v = vol.toFloat64Array(), p = pos.toFloat64Array();
    const n = pts[0] * pts[1] * pts[2], dg = D / g;
    let outside = 0;
    for (const padding of ['zeros', 'border'] as const) {
      const got = sampleTrilinear(vol, pos, padding).toFloat64Array(); // [B, n, D]
      for (let b = 0; b < B; b++) for (let gi = 0; gi < g; gi++) for (let k = 0; k < n; k++) {
        const q = ((b * g + gi) * n + k) * 3;
        const u = [T, H, W].map((size, a) => ((p[q + a]! + 1) * size - 1) / 2);
        if (padding === 'zeros' && u.some((x, a) => x < 0 || x > [T, H, W][a]! - 1)) outside++;
        for (let c = 0; c < dg; c++) {
          const ch = gi * dg + c;
          const at = (t: number, y: number, x: number) => {
            if (padding === 'border') { t = Math.min(Math.max(t, 0), T - 1); y = Math.min(Math.max(y, 0), H - 1); x = Math.min(Math.max(x, 0), W - 1); }
            if (t < 0 || t >= T || y < 0 || y >= H || x < 0 || x >= W) return 0;
            return v[(((b * D + ch) * T + t) * H + y) * W + x]!;
          };
          const uu = padding === 'border' ? u.map((x, a) => Math.min(Math.max(x, 0), [T, H, W][a]! - 1)) : u;
          const [t0, y0, x0] = uu.map(Math.floor) as [number, number, number];
          const [ft, fy, fx] = [uu[0]! - t0, uu[1]! - y0, uu[2]! - x0];
          let want = 0;
          for (const [dt, wt] of [[0, 1 - ft], [1, ft]]) for (const [dy, wy] of [[0, 1 - fy], [1, fy]]) for (const [dx, wx] of [[0, 1 - fx], [1, fx]]) {
            want += wt! * wy! * wx! * at(t0 + dt!, y0 + dy!, x0 + dx!);
          }
          const have = got[(b * n + k) * D + ch]!;
          assert.ok(Math.abs(have - want) < 1e-12, `${padding}: batch ${b}, group ${gi}, point ${k}, channel ${ch}: ${have} vs ${want}`);
        }
      }
    }
    assert.ok(outside >= 5, `only ${outside} of ${B * g * n} points fell outside the volume`);
  });
});

test('finite-difference probe: non-zero gradient through the sampling offsets, matching autograd', () => {
  torch.manualSeed(2);
  const m = new CrossModalTransformer(makeConfig({ ...TINY, dtype: 'float64' }));
  const d = m.blocks[0]!.deform!;
  m.eval(); // BatchNorm in inference mode: the loss is a plain function of the offsets
  const pose = torch.randn([2, 4, 25, 3], { dtype: 'float64' }).keep();
  const video = torch.rand([2, 3, 4, 8, 8], { dtype: 'float64' }).keep();
  const w = torch.randn([2, 3], { dtype: 'float64' }).keep();
  const probe = torch.full([1, 1, 2, 2, 2, 3], 0.037, { dtype: 'float64' }).keep(); // off the interpolation kinks
  probe.requiresGrad = true;
  d.offsetProbe = probe;
  const loss = () => m.forward({ pose, video }).mul(w).sum();
  const g = torch.scope(() => torch.grad(loss(), [probe])[0]!.keep().toFloat64Array());
  const flat = probe.detach();
  const eps = 1e-5;
  let maxAbs = 0;
  for (const k of [0, 4, 8, 13, 23]) {
    const fd = torch.noGrad(() => torch.scope(() => {
      const base = flat.reshape([-1]);
      const e = torch.zeros([24], { dtype: 'float64' }); e.reshape([-1]).select(0, k).fill_(eps);
      d.offsetProbe = base.add(e).reshape(probe.shape); const up = loss().item();
      d.offsetProbe = base.sub(e).reshape(probe.shape); const dn = loss().item();
      return (up - dn) / (2 * eps);
    }));
    maxAbs = Math.max(maxAbs, Math.abs(fd));
    assert.ok(Math.abs(fd - g[k]!) <= 1e-6 * Math.max(1, Math.abs(fd)), `offset coordinate ${k}: finite difference ${fd} vs autograd ${g[k]}`);
  }
  assert.ok(maxAbs > 1e-4, `gradient through the offsets is non-zero (max |∂L/∂Δ| = ${maxAbs})`);
  d.offsetProbe = null;
  // and the 3D token search itself gets a gradient at the zero start (so offsets can leave zero)
  torch.scope(() => { m.train(); loss().backward(); });
  const gw = torch.scope(() => d.search.pw.weight.grad!.abs().sum().item());
  assert.ok(gw > 0, 'the zero-initialised offset layer receives a gradient');
  m.zeroGrad();
  torch.dispose(pose, video, w, probe, flat);
  m.dispose();
});

test('joint-stride and temporal-stride attention: grouped calls equal per-group attention', () => {
  torch.manualSeed(3);
  const c = makeConfig({ ...TINY, rgb: false, frames: 6, temporalStride: 3, jointStride: 5, dtype: 'float64' });
  assert.deepEqual(jointGroups(c)[1], [1, 6, 11, 16, 21]);
  const ja = new LocalJointStrideAttention(c);
  const ta = new TemporalStrideAttention(c);
  torch.scope(() => {
    const cTok = torch.randn([2, 2, 8], { dtype: 'float64' });
    const p = torch.randn([2, 6, 25, 8], { dtype: 'float64' });
    const [c1, p1] = ja.forward(cTok, p);
    // reference: group 1 of frame 4 on its own, [c_pose; joints 1, 6, 11, 16, 21]
    const idx = torch.tensor([1, 6, 11, 16, 21], { dtype: 'int64' });
    const seq = torch.cat([ja.norm.forward(cTok.narrow(1, 1, 1)), ja.norm.forward(p.select(1, 4).indexSelect(1, idx))], 1);
    const out = ja.attn.forward(seq, seq);
    const want = p.select(1, 4).indexSelect(1, idx).add(out.narrow(1, 1, 5));
    assert.ok(p1.select(1, 4).indexSelect(1, idx).allclose(want, 1e-10, 1e-12));
    assert.ok(c1.select(1, 0).allclose(cTok.select(1, 0)), 'joint attention leaves c_rgb alone');
    // temporal: subset r = 1 holds frames 1 and 4
    const [c2, p2] = ta.forward(cTok, p);
    const fr = ta.norm.forward(p.mean(2)).indexSelect(1, torch.tensor([1, 4], { dtype: 'int64' }));
    const s2 = torch.cat([ta.norm.forward(cTok), fr], 1);
    const o2 = ta.attn.forward(s2, s2);
    assert.ok(p2.select(1, 4).allclose(p.select(1, 4).add(o2.select(1, 3).unsqueeze(1)), 1e-10, 1e-12));
    assert.deepEqual(c2.shape, [2, 2, 8]);
  });
  // the cost of a call falls with the stride
  const k1 = attentionCost(makeConfig({ frames: 16, temporalStride: 1 })), k4 = attentionCost(makeConfig({ frames: 16, temporalStride: 4 }));
  assert.equal(k1.temporalStrided, k1.temporalFull);
  assert.equal(k4.temporalStrided, 4 * (4 + 2) ** 2);
  ja.dispose(); ta.dispose();
});

test('pose-only mode, body-part groups, attention maps, input errors, no tensor leaks', () => {
  torch.manualSeed(4);
  const m = new CrossModalTransformer(makeConfig({ ...TINY, rgb: false, jointGrouping: 'parts', frames: 5, temporalStride: 2 }));
  const before = torch.liveTensors();
  torch.scope(() => {
    const pose = torch.randn([3, 5, 25, 3]);
    assert.deepEqual(m.forward({ pose }).shape, [3, 3]);
    m.setRecord(true);
    m.forward({ pose });
    const jm = m.blocks[0]!.joint.lastJointMap!, fm = m.blocks[0]!.temporal.lastFrameMap!;
    assert.deepEqual(jm.shape, [3, 5, 25]);
    assert.deepEqual(fm.shape, [3, 5]);
    // each group's attention row of c_pose sums to 1 over [c_pose; joints] → joint parts < 1, all > 0
    assert.ok([...jm.data].every((v) => v > 0 && v < 1));
    m.setRecord(false);
    assert.throws(() => m.forward({ pose: torch.randn([3, 5, 24, 3]) }), /'pose' must be \[B, 5, 25, 3\]/);
    assert.throws(() => m.forward({ pose, video: torch.rand([3, 3, 5, 8, 8]) }), /pose-only/);
  });
  assert.equal(torch.liveTensors(), before);
  const rgb = new CrossModalTransformer(makeConfig(TINY));
  torch.scope(() => {
    const pose = torch.randn([2, 4, 25, 3]);
    assert.throws(() => rgb.forward({ pose, video: torch.rand([2, 3, 4, 9, 8]) }), /'video' must be \[2, 3, 4, 8, 8\]/);
    assert.deepEqual(rgb.forward({ pose }).shape, [2, 3], 'RGB model runs with the video dropped');
  });
  assert.throws(() => makeConfig({ dim: 10, heads: 4 }), /'dim' \(10\) must be divisible by heads/);
  m.dispose(); rgb.dispose();
});
