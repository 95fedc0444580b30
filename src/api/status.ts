import { z } from 'zod';
import { conditionsSchema } from './conditions.ts';

/**
 * A kind's status the way kstatus reads it: observedGeneration first, the kind's own fields, and
 * the conditions last, described by the kind (which types it writes and when).
 */
export function statusSchema<Fields extends z.ZodRawShape>(o: { description: string; conditions: string; fields: Fields }) {
  return z
    .object({
      observedGeneration: z.number().int().optional().meta({ description: 'The metadata.generation this status was written for.' }),
      ...o.fields,
      conditions: conditionsSchema.optional().meta({ description: o.conditions }),
    })
    .meta({ description: o.description });
}
