/**
 * Runs `tick` every `intervalMs`, counted from the start of one tick to the start of the next (a
 * tick that outlasts the interval is followed at once), until stop(), which waits for the loop to end.
 */
export function repeat(intervalMs: number, tick: () => Promise<void>): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const start = Date.now();
      await tick();
      const wait = start + intervalMs - Date.now();
      if (wait > 0 && running) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}
