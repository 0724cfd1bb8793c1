import type { FastifyBaseLogger } from 'fastify';

/**
 * Runs due jobs on a fixed poll. The jobs live in the database, so the schedule survives a
 * crash: on start the first tick runs everything that became overdue while the server was down.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> = Promise.resolve();
  private stopped = true;

  constructor(
    private readonly runDue: () => Promise<number>,
    private readonly pollMs: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    this.stopped = false;
    this.tick(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  private tick(delay: number): void {
    this.timer = setTimeout(() => {
      this.current = (async () => {
        let ran = 0;
        try {
          ran = await this.runDue();
        } catch (error) {
          this.log.error({ err: error }, 'scheduled jobs failed');
        }
        // A full batch means more may be due: go again at once.
        if (!this.stopped) this.tick(ran > 0 ? 0 : this.pollMs);
      })();
    }, delay);
    this.timer.unref?.();
  }
}
