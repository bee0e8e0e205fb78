/**
 * Progress of a long step on stderr, so stdout stays the command's answer. On a terminal, one line
 * redrawn in place; elsewhere (a CI log, a pipe), a plain line at each quarter of big steps and at the
 * end of every step: no carriage returns in a log file.
 */
export interface Progress {
  update(label: string, done: number, total: number): void;
}

const BIG = 8 * 1024 * 1024;

export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = Boolean(stream.isTTY);
  let lastLabel = '';
  let lastQuarter = -1;
  let lastDraw = 0;
  return {
    update(label, done, total) {
      const fraction = total === 0 ? 1 : done / total;
      const percent = Math.floor(fraction * 100);
      if (label !== lastLabel) {
        lastLabel = label;
        lastQuarter = -1;
      }
      if (tty) {
        const now = Date.now();
        if (done < total && now - lastDraw < 100) return;
        lastDraw = now;
        const width = 30;
        const filled = Math.round(fraction * width);
        stream.write(
          `\r${label.padEnd(8)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${mib(done)}/${mib(total)}`,
        );
        if (done >= total) stream.write('\n');
        return;
      }
      const quarter = Math.floor(fraction * 4);
      if (done >= total || (total >= BIG && quarter > lastQuarter && quarter >= 1)) {
        lastQuarter = quarter;
        stream.write(`${label}: ${percent}% (${done} of ${total} bytes)\n`);
      }
    },
  };
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}
