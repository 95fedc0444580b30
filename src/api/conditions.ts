import { z } from 'zod';

/** metav1.Condition, as kstatus, `kubectl wait` and Argo CD read it. */
export const conditionSchema = z.object({
  type: z.string().min(1).max(316).meta({ description: 'Condition type, e.g. Ready. One entry per type.' }),
  status: z.enum(['True', 'False', 'Unknown']).meta({ description: 'True, False or Unknown.' }),
  observedGeneration: z.number().int().min(0).optional().meta({ description: 'The metadata.generation this condition was computed from.' }),
  lastTransitionTime: z.string().meta({ format: 'date-time', description: 'When status last changed (a new reason or message alone keeps the time).' }),
  reason: z.string().min(1).max(1024).meta({ description: 'One CamelCase word that programs can match on.' }),
  message: z.string().max(32768).meta({ description: 'What is going on, in words a person can act on.' }),
});
export type Condition = z.infer<typeof conditionSchema>;

/** The conditions list as the API server should merge it: one entry per type. */
export const conditionsSchema = z
  .array(conditionSchema)
  .max(16)
  .meta({
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });
