import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface Series {
  /** Fleet-server times (ms). */
  times: number[];
  values: Array<number | null>;
}

/**
 * One value over time, drawn by uPlot on a canvas. The canvas says nothing to a screen reader or a
 * test, so the figure carries its name and the latest value as text.
 */
export function TimeChart({ title, unit, series }: { title: string; unit: string; series: Series }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = (): uPlot.AlignedData => [series.times.map((t) => t / 1000), series.values];
  useEffect(() => {
    if (!host.current) return;
    plot.current = new uPlot(
      {
        width: Math.max(320, host.current.clientWidth || 640),
        height: 200,
        // One point has no span: a minute either side, or uPlot stretches it over years.
        scales: {
          x: { time: true, range: (_u, min, max) => (min === max ? [min - 60, max + 60] : [min, max]) },
        },
        series: [{}, { label: `${title} (${unit})`, stroke: '#1f6feb', width: 2, spanGaps: false }],
        axes: [{}, { label: unit }],
        legend: { show: false },
      },
      data(),
      host.current,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(data());
  }, [series]);
  const last = series.values.at(-1);
  return (
    <figure class="chart">
      <figcaption>
        {title}: {last === undefined || last === null ? 'no value' : `${Math.round(last * 10) / 10} ${unit}`}{' '}
        ({series.times.length} points)
      </figcaption>
      <div ref={host} role="img" aria-label={`${title} over time, ${series.times.length} points`} />
    </figure>
  );
}
