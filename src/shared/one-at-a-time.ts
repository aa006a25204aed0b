/**
 * Runs tasks one after another, in the order they were given, whatever each one's outcome: for resources that
 * must not be used by two tasks at once (the models' reused input buffers, the gallery's read-modify-write).
 */
export class OneAtATime {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every task given so far has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
