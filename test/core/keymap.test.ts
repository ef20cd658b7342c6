// Key maps and prefix stripping (src/core/io/keymap.ts): rules in order, functions as replacements,
// drops, collisions named, wrapper prefixes stripped only when every key shares them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyKeyMap, stripPrefix, type KeyMap } from '../../src/core/io/keymap.ts';
import { InputFileError } from '../../src/core/errors.ts';

const map: KeyMap = {
  name: 't', description: 'test',
  rules: [[/^outputs\.(\d)\./, (_, i) => `out${Number(i) + 1}.`], [/^a\.(\w+)$/, 'b.$1'], [/^a\./, 'never.']],
  drop: [/num_batches_tracked$/],
};

test('rules apply first match first, replacements may be functions, drops drop, other keys stay', () => {
  const out = applyKeyMap({ 'outputs.0.weight': 1, 'a.x': 2, 'bn.num_batches_tracked': 3, keep: 4 }, map);
  assert.deepEqual(out, { 'out1.weight': 1, 'b.x': 2, keep: 4 });
});

test('two keys mapped to one name is an error naming both', () => {
  assert.throws(() => applyKeyMap({ 'a.x': 1, 'b.x': 2 }, map, 'f.pth'),
    (e: Error) => e instanceof InputFileError && e.message === "f.pth: key map 't' maps both 'a.x' and 'b.x' to 'b.x'");
});

test('prefixes: auto strips shared wrappers repeatedly and nothing else; an explicit prefix keeps only its keys', () => {
  assert.deepEqual(stripPrefix({ 'module.model.w': 1, 'module.model.b': 2 }, 'auto'), { w: 1, b: 2 });
  assert.deepEqual(stripPrefix({ 'model.w': 1, 'loss.w': 2 }, 'auto'), { 'model.w': 1, 'loss.w': 2 });
  assert.deepEqual(stripPrefix({ 'model.w': 1, 'loss.w': 2 }, 'model.'), { w: 1 });
  assert.throws(() => stripPrefix({ 'model.w': 1 }, 'net.', 'x.ckpt'), /x\.ckpt: no key starts with 'net\.' \(keys start with model\.\)/);
});
