import { z } from 'zod';

/** A label key: an optional DNS-subdomain prefix and "/", then a name of 1..63 characters (RE2- and JS-compatible). */
export const LABEL_KEY_PATTERN = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
/** A label value: empty, or 1..63 characters starting and ending alphanumeric. */
export const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$';

const LABEL_KEY = new RegExp(LABEL_KEY_PATTERN);
const labelKey = z.string().min(1).max(317).regex(LABEL_KEY);
const labelValue = z.string().max(63).regex(new RegExp(LABEL_VALUE_PATTERN));

/** metav1.LabelSelectorRequirement, with the API server's own rule on values checked by the CRD. */
export const labelSelectorRequirementSchema = z
  .object({
    key: labelKey.meta({ description: 'The label key the requirement applies to.' }),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).meta({
      description: "How the key's value is matched: In and NotIn need values; Exists and DoesNotExist need none.",
    }),
    values: z
      .array(labelValue)
      .max(64)
      .optional()
      .meta({ description: 'The values for In and NotIn (at least one); empty or absent for Exists and DoesNotExist.' }),
  })
  .strict()
  .meta({
    description: 'One requirement on a label: key, operator and values.',
    'x-kubernetes-validations': [
      {
        rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
        message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
      },
    ],
  });

/** metav1.LabelSelector: matchLabels and matchExpressions, all of which must hold; an empty selector matches everything. */
export const labelSelectorSchema = z
  .object({
    matchLabels: z
      .record(z.string(), labelValue)
      .refine((labels) => Object.keys(labels).every((key) => key.length <= 317 && LABEL_KEY.test(key)), 'every matchLabels key must be a valid label key')
      .optional()
      .meta({
        description: 'Labels that must be present with exactly these values.',
        maxProperties: 64,
        'x-kubernetes-validations': [
          { rule: `self.all(k, size(k) <= 317 && k.matches(r'${LABEL_KEY_PATTERN}'))`, message: 'every matchLabels key must be a valid label key' },
        ],
      }),
    matchExpressions: z.array(labelSelectorRequirementSchema).max(64).optional().meta({ description: 'Requirements on labels, all of which must hold.' }),
  })
  .strict();

export type LabelSelectorSpec = z.infer<typeof labelSelectorSchema>;
