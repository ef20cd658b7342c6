// Every kind of parameter zod can describe reaches a command intact from the command line and from
// the HTTP API: the registry's flat description (types, nullability, choices, keywords), the CLI's
// parsing of flag text, and the server's validation. Issue #24 item 3: nullable numbers used to be
// described as 'unknown', so `traffic analyze --t0 5` failed with "expected number, received string".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { registerModule, defineCommand, describeParams, validateParams, type ParamInfo } from '../../src/core/registry.ts';
import { parseValue, placeholder } from '../../src/cli/params.ts';
import { createApp } from '../../src/server/app.ts';

const params = z.object({
  num: z.number().default(1.5).describe('a number'),
  int: z.number().int().min(0).max(10).default(3),
  str: z.string().default('x'),
  flag: z.boolean().default(false),
  choice: z.enum(['a', 'b']).default('a'),
  nullNum: z.number().nullable().default(null),
  optNum: z.number().optional(),
  nullOptInt: z.number().int().nullable().optional(),
  nullChoice: z.enum(['p', 'q']).nullable().default(null),
  nullStr: z.string().nullable().default(null),
  boundedNull: z.number().min(0).max(5).nullable().default(null),
  auto: z.union([z.number().positive(), z.literal('auto')]).default('auto'),
  words: z.union([z.literal('fast'), z.literal('slow')]).default('fast'),
  list: z.array(z.enum(['x', 'y', 'z'])).default(['x']),
  nums: z.array(z.number().int()).optional(),
});
const cmd = defineCommand({ name: 'echo', description: 'returns its parameters', params, run: (p) => ({ ...p }) });
registerModule({ name: 'param-types-test', title: 'test', description: 'every parameter type', commands: [cmd] });

/** What each parameter's description must say, and flag text → the value the command sees. */
const cases: Record<string, { type: ParamInfo['type']; extra?: Partial<ParamInfo>; cli: [string, unknown][] }> = {
  num: { type: 'number', cli: [['2.5', 2.5], ['-1e-3', -1e-3]] },
  int: { type: 'integer', extra: { minimum: 0, maximum: 10 }, cli: [['7', 7]] },
  str: { type: 'string', cli: [['hello', 'hello']] },
  flag: { type: 'boolean', cli: [] },
  choice: { type: 'string', extra: { choices: ['a', 'b'] }, cli: [['b', 'b']] },
  nullNum: { type: 'number', extra: { nullable: true }, cli: [['5', 5], ['null', null]] },
  optNum: { type: 'number', cli: [['4', 4]] },
  nullOptInt: { type: 'integer', extra: { nullable: true }, cli: [['9', 9], ['null', null]] },
  nullChoice: { type: 'string', extra: { nullable: true, choices: ['p', 'q'] }, cli: [['q', 'q'], ['null', null]] },
  nullStr: { type: 'string', extra: { nullable: true }, cli: [['s', 's']] },
  boundedNull: { type: 'number', extra: { nullable: true, minimum: 0, maximum: 5 }, cli: [['2', 2]] },
  auto: { type: 'number', extra: { keywords: ['auto'] }, cli: [['0.5', 0.5], ['auto', 'auto']] },
  words: { type: 'string', extra: { choices: ['fast', 'slow'] }, cli: [['slow', 'slow']] },
  list: { type: 'array', extra: { itemType: 'string', itemChoices: ['x', 'y', 'z'] }, cli: [['y,z', ['y', 'z']]] },
  nums: { type: 'array', extra: { itemType: 'integer' }, cli: [['1, 2,3', [1, 2, 3]]] },
};

test('the registry describes every zod parameter kind with its real type; the CLI parses flag text into values zod accepts', () => {
  const info = new Map(describeParams(cmd).map((p) => [p.name, p]));
  assert.deepEqual([...info.keys()].sort(), Object.keys(cases).sort());
  for (const [name, c] of Object.entries(cases)) {
    const p = info.get(name)!;
    assert.equal(p.type, c.type, `${name}: type`);
    for (const [k, v] of Object.entries(c.extra ?? {})) assert.deepEqual(p[k as keyof ParamInfo], v, `${name}: ${k}`);
    if (!c.extra?.nullable) assert.ok(!p.nullable, `${name} is not nullable`);
    assert.ok(!/unknown/.test(placeholder(p)), `${name}: --help shows <${placeholder(p)}>`);
    for (const [text, want] of c.cli) {
      const v = parseValue(p, text);
      assert.deepEqual(v, want, `${name} ${text}`);
      assert.deepEqual(validateParams(cmd, { [name]: v })[name], want, `${name} ${text} validates`);
    }
  }
  assert.equal(info.get('int')!.minimum, 0);
  assert.equal(info.get('optNum')!.minimum, undefined, 'no ±MAX_SAFE_INTEGER bounds from z.int()');
  // Wrong text is refused naming the parameter, and zod refuses what parses but is not allowed.
  assert.throws(() => parseValue(info.get('nullNum')!, 'soon'), /parameter 'nullNum': expected a number, got 'soon'/);
  assert.throws(() => parseValue(info.get('auto')!, 'never'), /expected a number or auto/);
  assert.throws(() => validateParams(cmd, { list: ['x', 'w'] }), /parameter 'list\.1'/);
  assert.throws(() => validateParams(cmd, { auto: -1 }), /parameter 'auto'/);
});

test('the HTTP API describes the same types and validates the same values', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-params-'));
  const dash = createApp({ root, cwd: root });
  dash.setHosts(['test.local:1']);
  try {
    const r = await dash.app.request('http://test.local:1/api/modules', { headers: { host: 'test.local:1' } });
    assert.equal(r.status, 200);
    const mods = (await r.json()) as { name: string; commands: { name: string; params: ParamInfo[] }[] }[];
    const served = mods.find((m) => m.name === 'param-types-test')!.commands[0]!.params;
    assert.deepEqual(served, JSON.parse(JSON.stringify(describeParams(cmd))));
    const post = (p: Record<string, unknown>) => dash.app.request('http://test.local:1/api/runs', {
      method: 'POST', headers: { host: 'test.local:1', 'content-type': 'application/json', 'x-paperlab-token': dash.token },
      body: JSON.stringify({ module: 'param-types-test', command: 'echo', params: p }),
    });
    for (const bad of [{ nullNum: 'soon' }, { list: ['w'] }, { auto: 'never' }, { nullChoice: 'r' }]) {
      const res = await post(bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.match(((await res.json()) as { error: string }).error, new RegExp(`parameter '${Object.keys(bad)[0]}`));
    }
    assert.deepEqual(fs.readdirSync(root).filter((f) => !f.startsWith('index.sqlite') && f !== '.reserve'), [], 'refused runs create nothing');
  } finally {
    dash.shutdown();
  }
});
