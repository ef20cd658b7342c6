// The dashboard's preview worker (preview.ts): a long-lived process that reads preview jobs (one
// JSON line each: {id, module, command, params, maxPixels}) on stdin and answers each with one
// JSON line {id, png: base64} or {id, error, name}. Modules load on their first job and stay
// loaded, and so does whatever the module's preview keeps (a model, the last photo). It exits
// when stdin closes (the server went away).
import readline from 'node:readline';
import { loadModules } from '../modules/index.ts';
import { getCommand, validateParams } from '../core/registry.ts';
import { NotFoundError } from '../core/errors.ts';

interface Job { id: number; module: string; command: string; params: Record<string, unknown>; maxPixels: number }

const send = (m: Record<string, unknown>) => { process.stdout.write(JSON.stringify(m) + '\n'); };
let chain: Promise<void> = Promise.resolve();

async function render(job: Job): Promise<void> {
  try {
    await loadModules([job.module]);
    const cmd = getCommand(job.module, job.command);
    if (!cmd.preview) throw new NotFoundError(`${job.module} ${job.command} has no preview`);
    const params = validateParams(cmd, job.params, `${job.module} ${job.command} preview`);
    const png = await cmd.preview.render(params, { maxPixels: job.maxPixels });
    send({ id: job.id, png: Buffer.from(png).toString('base64') });
  } catch (e) {
    send({ id: job.id, error: (e as Error)?.message ?? String(e), name: (e as Error)?.name });
  }
}

const rl = readline.createInterface({ input: process.stdin });
// one job at a time, in order (the server sends the next one only after an answer anyway)
rl.on('line', (line) => {
  let job: Job;
  try { job = JSON.parse(line) as Job; } catch { return; }
  chain = chain.then(() => render(job));
});
rl.on('close', () => { void chain.then(() => process.exit(0)); });
process.on('SIGTERM', () => process.exit(0));
