const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A slow SMTP relay, switched on and off at run time (the walkthrough's incident): while
 * on, it takes one send at a time and holds each for `delayMs`, so a busy notification
 * service falls behind and messages wait in the queue.
 */
export class SmtpSpike {
  private delayMs = 0;
  private turn: Promise<unknown> = Promise.resolve();

  get active(): boolean {
    return this.delayMs > 0;
  }

  start(delayMs: number): void {
    this.delayMs = Math.max(0, delayMs);
  }

  stop(): void {
    this.delayMs = 0;
  }

  /** Resolves when the relay would take this send: at once while the spike is off. */
  async wait(): Promise<void> {
    if (!this.active) return;
    const mine = this.turn.then(() => delay(this.delayMs));
    this.turn = mine;
    await mine;
  }
}
