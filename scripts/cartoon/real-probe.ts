import path from 'node:path';
import * as torch from '../../src/core/torch/index.ts';
import { openCartoonizer, photoColourMap, readPhoto } from '../../src/modules/cartoon/apply.ts';
import { strokeWidth, highFrequencyRatio, channel, inkCoverage } from '../../src/modules/cartoon/evaluate.ts';
import { labToRgb } from '../../src/modules/cartoon/color.ts';
import { writeImage } from '../../src/core/io/image.ts';
torch.setNumThreads(1);
const cz = openCartoonizer({ checkpoint: process.argv[2] });
cz.model!.controller.abstractionOn = process.argv[3] === 'on' ? true : cz.model!.controller.abstractionOn;
const rows: torch.Tensor[] = [];
for (const f of ['astronaut', 'chelsea', 'coffee']) {
  const t = await readPhoto(`/work/main/test/fixtures/cartoon/${f}.png`, 96);
  const ph = t.narrow(2, 0, 64).narrow(3, 0, 64).contiguous();
  const mp = photoColourMap(ph);
  const ws = [1, 3, 5].map((l) => strokeWidth(channel(cz.lab(ph, mp, l, 1), 0, 0), 64, 64).toFixed(2));
  const ink = [1, 3, 5].map((l) => inkCoverage(channel(cz.lab(ph, mp, l, 1), 0, 0), 64, 64).toFixed(3));
  const full = t.narrow(2, 0, 64).narrow(3, 0, 96).contiguous(); const fm = photoColourMap(full);
  const inkF = [1, 3, 5].map((l) => inkCoverage(channel(cz.lab(full, fm, l, 1), 0, 0), 64, 96).toFixed(3));
  const wF = [1, 3, 5].map((l) => strokeWidth(channel(cz.lab(full, fm, l, 1), 0, 0), 64, 96).toFixed(2));
  console.log(f, 'ink', ink.join(' '), 'full ink', inkF.join(' '), 'full W', wF.join(' '));
  const hs = [1, 3, 5].map((l) => highFrequencyRatio(channel(cz.lab(ph, mp, 1, l), 0, 0), 64, 64).toFixed(3));
  console.log(f, 'W', ws.join(' '), 'HF', hs.join(' '));
  rows.push(torch.cat([ph, ...[1, 3, 5].map((l) => labToRgb(cz.lab(ph, mp, l, 1))), ...[3, 5].map((l) => labToRgb(cz.lab(ph, mp, 1, l)))], 3));
}
await writeImage('/tmp/real.png', torch.cat(rows, 2));
