// Run-table actions of the dashboard: tags and notes of a run, and deleting a run (its folder and
// index row together: RunStore.delete). A running run is not deleted (409): stop it first.
import type { Hono } from 'hono';
import type { RunStore } from '../core/runs.ts';
import { UsageError } from '../core/errors.ts';

type Env = { Variables: { body: Record<string, unknown> | undefined } };

export function registerManageRoutes(app: Hono<Env>, store: RunStore, isActive: (id: string) => boolean): void {
  app.post('/api/runs/:id/annotate', (c) => {
    const body = c.get('body') ?? {};
    const { tags, notes } = body;
    if (tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string' && t.length <= 64) && tags.length <= 50)) {
      throw new UsageError('tags must be a list of at most 50 strings of at most 64 characters');
    }
    if (notes !== undefined && (typeof notes !== 'string' || notes.length > 20_000)) throw new UsageError('notes must be a string of at most 20000 characters');
    const r = store.annotate(c.req.param('id'), { tags: tags as string[] | undefined, notes: notes as string | undefined });
    return c.json({ id: r.id, tags: r.tags, notes: r.notes });
  });

  app.delete('/api/runs/:id', (c) => {
    const r = store.get(c.req.param('id'));
    if (isActive(r.id)) return c.json({ error: `run ${r.id} is running: stop it first` }, 409);
    store.delete(r.id);
    return c.json({ deleted: r.id });
  });
}
