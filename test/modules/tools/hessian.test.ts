// `paperlab hessian` (≡ `paperlab tools hessian`): top-k, trace and SLQ density of a saved model on
// its data, checked against the dense Hessian of the same θ (a small fc-tanh net on the bundled
// digits), per layer against the dense Hessian's diagonal blocks; a .pth written by PyTorch with the
// reference's state_dict names; an eos checkpoint; corrupt checkpoints name the file and the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../../src/core/torch/index.ts';
import { runCommand } from '../../../src/core/runner.ts';
import { Rng } from '../../../src/core/rng.ts';
import { denseHessian } from '../../../src/core/hessian.ts';
import { loadNamedDataset, modelByName, supervised, thetaFromStateDict, batchedHvp, type FlatModel } from '../../../src/core/dynamics/index.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-hessian-'));
const ARCH = 'fc-tanh-depth1-w6';
const DATA = { data: 'digits', nTrain: 30 };
const PY = '/usr/bin/python3';
const hasTorch = (() => { try { execFileSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }); return true; } catch { return false; } })();

/** The dense Hessian of the model at the checkpoint's θ on the same data, and its eigenvalues (descending). */
function dense(file: string) {
  const data = loadNamedDataset({ dataset: DATA.data, nTrain: DATA.nTrain }, new Rng(0));
  const m = modelByName(ARCH, 64, 10);
  const sd = torch.loadStateDict(file, { prefix: 'auto' });
  const { theta } = thetaFromStateDict(m, sd.tensors, file);
  const obj = supervised(m, data, 'mse');
  const th = theta.clone().requiresGrad_();
  const H = denseHessian(() => obj.loss(th), [th]);
  const evals = Array.from(torch.linalg.eigvalsh(H).toFloat64Array()).reverse();
  const blocks: { name: string; top: number; trace: number }[] = [];
  let off = 0;
  m.layout.entries.forEach((e, i) => {
    const s = m.layout.sizes[i]!;
    torch.scope(() => {
      const B = H.narrow(0, off, s).narrow(1, off, s);
      blocks.push({ name: m.stateNames?.[e.name] ?? e.name, top: torch.linalg.eigvalsh(B).toFloat64Array().at(-1)!, trace: B.diagonal().sum().item() });
    });
    off += s;
  });
  const trace = torch.scope(() => H.diagonal().sum().item());
  const offDiag2 = torch.scope(() => H.square().sum().item() - H.diagonal().square().sum().item());
  torch.dispose(H, th, theta, sd.tensors, data.X, data.y, data.Xtest, data.ytest); obj.dispose?.();
  return { evals, trace, offDiag2, blocks, model: m };
}

function saveModel(m: FlatModel, file: string, seed: number, o: { rename?: (k: string) => string; shapeBug?: boolean } = {}) {
  torch.manualSeed(seed);
  const theta = m.init();
  const views = m.layout.views(theta);
  const out: Record<string, torch.Tensor> = {};
  for (const e of m.layout.entries) {
    const key = o.rename ? o.rename(m.stateNames?.[e.name] ?? e.name) : m.stateNames?.[e.name] ?? e.name;
    out[key] = o.shapeBug && e.name === 'W0' ? views[e.name]!.reshape(-1).contiguous() : views[e.name]!.contiguous();
  }
  torch.saveSafetensors(file, out);
  torch.dispose(theta);
}

test('hessian: top-k equal the dense eigenvalues, the trace lands within 4 standard errors of the dense trace, the per-layer blocks equal the dense diagonal blocks', async () => {
  await import('../../../src/modules/tools/commands.ts');
  const ck = path.join(root, 'fc.safetensors');
  saveModel(modelByName(ARCH, 64, 10), ck, 3, { rename: (k) => `module.${k}` }); // a DataParallel-style prefix
  const ref = dense(ck);
  const r = await runCommand('tools', 'hessian', {
    checkpoint: ck, model: ARCH, ...DATA, topK: 3, traceIter: 300, traceTol: 0, slqIter: 40, slqRuns: 2, bins: 200, perLayer: true,
  }, { root, seed: 0 });
  assert.equal(r.run.status, 'done', String(r.run.error));
  const s = r.summary as { parameters: number; topEigenvalues: number[]; trace: number };
  assert.equal(s.parameters, 64 * 6 + 6 + 6 * 10 + 10);
  s.topEigenvalues.forEach((v, i) => assert.ok(Math.abs(v - ref.evals[i]!) <= 1e-6 * Math.abs(ref.evals[0]!), `λ${i + 1} ${v} vs dense ${ref.evals[i]}`));
  const se = Math.sqrt(2 * ref.offDiag2 / 300);
  assert.ok(Math.abs(s.trace - ref.trace) < 4 * se, `trace ${s.trace} vs dense ${ref.trace} (4 se = ${4 * se})`);
  type Run = { nodes: number[]; weights: number[] };
  type Layer = { layer: string; parameters: number; topEigenvalues: number[]; trace: { value: number }; density: { runs: Run[] } };
  const full = JSON.parse(fs.readFileSync(path.join(r.run.dir, 'hessian.json'), 'utf8')) as { layers: Layer[] };
  assert.deepEqual(full.layers.map((l) => l.layer), ['all', '1.weight', '1.bias', '3.weight', '3.bias']);
  for (const b of ref.blocks) {
    const l = full.layers.find((x) => x.layer === b.name)!;
    const err = Math.abs(l.topEigenvalues[0]! - b.top);
    assert.ok(err <= 1e-6 * Math.max(1, Math.abs(b.top)), `${b.name}: top ${l.topEigenvalues[0]} vs dense block ${b.top}`);
    assert.ok(l.density.runs[0]!.nodes.length <= l.parameters, `${b.name}: SLQ steps capped at the block size`);
  }
  // MSE (½‖o − t‖², mean over examples): the output-bias block is exactly the identity, so Lanczos stops
  // after one step (an invariant Krylov space) with one node at 1 of weight 1
  const ob = full.layers.find((x) => x.layer === '3.bias')!;
  assert.deepEqual(ob.density.runs.map((x) => x.nodes.length), [1, 1]);
  assert.ok(Math.abs(ob.density.runs[0]!.nodes[0]! - 1) < 1e-12 && Math.abs(ob.trace.value - 10) < 1e-9);
  // the SLQ weights of each run sum to 1, nodes lie inside the dense spectrum
  const all = full.layers[0]!;
  for (const run of all.density.runs) {
    assert.ok(Math.abs(run.weights.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.ok(run.nodes.every((t) => t <= ref.evals[0]! * (1 + 1e-9) + 1e-12 && t >= ref.evals.at(-1)! - 1e-9 * Math.abs(ref.evals[0]!)));
  }
  for (const f of ['hessian.json', 'eigenvalues.csv', 'density.csv', 'density.png', 'density.svg']) assert.ok(fs.existsSync(path.join(r.run.dir, f)), f);
  const svg = fs.readFileSync(path.join(r.run.dir, 'density.svg'), 'utf8');
  assert.match(svg, /density \(log scale/);
  assert.match(svg, /<path[^>]*d="M[\d.]+,[\d.]+L/, 'the density curve is drawn');
});

test('hessian on a .pth written by PyTorch (the reference fc net\'s state_dict names) and on an eos checkpoint (a flat θ)', { skip: hasTorch ? false : 'no python3-torch here' }, async () => {
  await import('../../../src/modules/tools/commands.ts');
  const pth = path.join(root, 'ref.pth');
  execFileSync(PY, ['-c', `
import sys, torch, torch.nn as nn
torch.manual_seed(0)
net = nn.Sequential(nn.Flatten(), nn.Linear(64, 6), nn.Tanh(), nn.Linear(6, 10)).double()
torch.save(net.state_dict(), sys.argv[1])`, pth]);
  const ref = dense(pth);
  const r = await runCommand('tools', 'hessian', { checkpoint: pth, model: ARCH, ...DATA, topK: 2, trace: false, density: false }, { root });
  assert.equal(r.run.status, 'done', String(r.run.error));
  const s = r.summary as { topEigenvalues: number[]; trace: number | null };
  assert.ok(Math.abs(s.topEigenvalues[0]! - ref.evals[0]!) <= 1e-6 * ref.evals[0]!);
  assert.equal(s.trace, null);
  // the same θ as an eos checkpoint ('theta' holds the flat vector), with physical batches of 7 examples
  const sd = torch.loadStateDict(pth, {});
  const m = modelByName(ARCH, 64, 10);
  const { theta } = thetaFromStateDict(m, sd.tensors, pth);
  const flat = path.join(root, 'eta-0.5.safetensors');
  torch.saveSafetensors(flat, { theta });
  const b = await runCommand('tools', 'hessian', { checkpoint: flat, model: ARCH, ...DATA, topK: 2, trace: false, density: false, physicalBatch: 7 }, { root });
  assert.equal(b.run.status, 'done', String(b.run.error));
  const sb = b.summary as { topEigenvalues: number[] };
  assert.ok(Math.abs(sb.topEigenvalues[0]! - ref.evals[0]!) <= 1e-6 * ref.evals[0]!, 'accumulated over physical batches: the same Hessian (no BatchNorm)');
  torch.dispose(sd.tensors, theta);
});

test('hessian: batchedHvp over physical batches equals the one-batch operator; corrupt checkpoints name the file and the key', async () => {
  await import('../../../src/modules/tools/commands.ts');
  const data = loadNamedDataset({ dataset: 'digits', nTrain: 25 }, new Rng(0));
  const m = modelByName(ARCH, 64, 10);
  torch.manualSeed(1);
  const theta = m.init();
  const obj = supervised(m, data, 'ce');
  const a = batchedHvp(obj, theta), b = batchedHvp(obj, theta, 4);
  torch.scope(() => {
    const v = torch.randn([m.layout.dim], { dtype: 'float64' });
    const d = a.matvec(v).sub(b.matvec(v)).norm().item() / a.matvec(v).norm().item();
    assert.ok(d < 1e-12, `relative difference ${d}`);
    assert.ok(Math.abs(a.loss - b.loss) < 1e-12);
  });
  a.dispose(); b.dispose(); obj.dispose?.(); torch.dispose(theta, data.X, data.y, data.Xtest, data.ytest);

  const bad = path.join(root, 'bad.safetensors');
  saveModel(m, bad, 2, { shapeBug: true });
  const r = await runCommand('tools', 'hessian', { checkpoint: bad, model: ARCH, ...DATA }, { root }).catch((e: Error) => e);
  const msg = r instanceof Error ? r.message : String(r.run.error);
  assert.match(msg, /bad\.safetensors: key '1\.weight' has shape \[384\], model fc-tanh-6 needs \[6, 64\]/);
  const other = path.join(root, 'other.safetensors');
  saveModel(m, other, 2, { rename: (k) => k.replace('3.', '5.') });
  const r2 = await runCommand('tools', 'hessian', { checkpoint: other, model: ARCH, ...DATA }, { root }).catch((e: Error) => e);
  assert.match(r2 instanceof Error ? r2.message : String(r2.run.error), /other\.safetensors: no key '3\.weight'/);
  const r3 = await runCommand('tools', 'hessian', { checkpoint: other, model: 'cnn-sigmoid', ...DATA }, { root }).catch((e: Error) => e);
  assert.match(r3 instanceof Error ? r3.message : String(r3.run.error), /--model: unknown arch 'cnn-sigmoid'/);
});
