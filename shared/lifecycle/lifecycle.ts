/**
 * Clean-up helpers of a running part (STYLE habit 13: a `close()` safe to call twice that runs every
 * clean-up even if one fails). The process contract itself is in process.contract.ts.
 */

/** Closes in reverse order of registration; collects failures instead of stopping at the first. */
export class Closer {
  private readonly items: Array<{ name: string; close: () => Promise<void> | void }> = [];
  private closing: Promise<void> | undefined;

  add(name: string, close: () => Promise<void> | void): void {
    this.items.push({ name, close });
  }

  close(onError?: (name: string, err: unknown) => void): Promise<void> {
    this.closing ??= (async () => {
      for (const item of [...this.items].reverse()) {
        try {
          await item.close();
        } catch (err) {
          onError?.(item.name, err);
        }
      }
    })();
    return this.closing;
  }
}

/** Wires SIGTERM/SIGINT to a clean shutdown; a second signal exits at once. */
export function onShutdown(fn: (signal: string) => Promise<void>, graceMs = 10000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    const timer = setTimeout(() => process.exit(1), graceMs);
    timer.unref();
    fn(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
