/** A progress bar on stderr: drawn only on a terminal, silent when piped. */
export interface Progress {
  add(count: number): void;
  done(): void;
}

const WIDTH = 30;

// The stream whose last line is a bar still being drawn (a message written now would join it).
let drawing: NodeJS.WriteStream | null = null;

/** Ends the line of a bar still being drawn, so that a message written next stands on a line of its own. */
export function endBarLine(): void {
  drawing?.write('\n');
  drawing = null;
}

/**
 * A progress bar for `total` items labelled `label`, redrawn at most every 100 ms. When stderr
 * is not a terminal (a pipe, a log file, a test) it writes nothing at all.
 */
export function progress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { add() {}, done() {} };
  let current = 0;
  let drawnAt = 0;
  const draw = (): void => {
    const ratio = total > 0 ? Math.min(1, current / total) : 1;
    const filled = Math.round(ratio * WIDTH);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(current)}/${String(total)}`);
    drawing = stream;
  };
  return {
    add(count) {
      current += count;
      const now = Date.now();
      if (now - drawnAt >= 100) {
        drawnAt = now;
        draw();
      }
    },
    done() {
      draw();
      endBarLine();
    },
  };
}
