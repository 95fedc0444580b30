/**
 * One request to the SES simulator's control interface (`/_simulator/...`, see CONTROL.md) from
 * outside its process: the parsed JSON answer, or an Error naming the method, path and status.
 */
export async function simulatorControl<T>(sesEndpoint: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const response = await fetch(`${sesEndpoint}/_simulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!response.ok) throw new Error(`simulator ${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}
