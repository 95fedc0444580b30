/** A clock the test moves by hand; pass `clock.now` where a component takes `now: () => number`. */
export class FakeClock {
  #ms: number;

  constructor(start: string | number = '2026-11-28T12:00:00Z') {
    this.#ms = typeof start === 'number' ? start : Date.parse(start);
  }

  readonly now = (): number => this.#ms;

  advance(ms: number): void {
    this.#ms += ms;
  }
}
