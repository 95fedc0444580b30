/**
 * metav1.LabelSelector, matched as apimachinery's LabelSelectorAsSelector does: every matchLabels
 * entry and every matchExpressions requirement must hold (AND); an empty selector matches
 * everything. No npm package does this without pulling in a client; it is a few lines here.
 */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export function matchesLabelSelector(selector: LabelSelector, labels: Readonly<Record<string, string>> = {}): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  return (selector.matchExpressions ?? []).every((requirement) => matchesRequirement(requirement, labels));
}

function matchesRequirement({ key, operator, values = [] }: LabelSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, key);
  switch (operator) {
    case 'In':
      return has && values.includes(labels[key]!);
    case 'NotIn':
      // As in Kubernetes: a missing label is "not in" any set.
      return !has || !values.includes(labels[key]!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      // An operator the API server would have refused: match nothing rather than everything.
      return false;
  }
}

/** The selector in kubectl's `-l` syntax (metav1.FormatLabelSelector): `team=billing,env in (prod,staging),!legacy`. */
export function formatLabelSelector(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`);
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const set = `(${[...values].sort().join(',')})`;
    if (operator === 'In') parts.push(`${key} in ${set}`);
    else if (operator === 'NotIn') parts.push(`${key} notin ${set}`);
    else if (operator === 'Exists') parts.push(key);
    else if (operator === 'DoesNotExist') parts.push(`!${key}`);
    else parts.push(`${key} ${String(operator)} ${set}`);
  }
  return parts.length ? parts.join(',') : '<everything>';
}
