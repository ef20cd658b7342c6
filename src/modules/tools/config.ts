// tools — defaults of the everyday commands (the one source of every default; imports only zod).
import { z } from 'zod';

/** `paperlab convert`: which key prefix to strip by default ('auto': wrapper prefixes every key shares). */
export const convertDefaults = {
  prefix: 'auto',
} as const;

export const prefixSchema = z.string().min(1);
