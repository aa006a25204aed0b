/** Line charts that grow as points arrive (uPlot: small, fast, no dependencies). */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom.js';

export interface SeriesSpec {
  readonly label: string;
  readonly stroke: string;
}

export interface LiveChart {
  readonly element: HTMLElement;
  /** Adds one point per series at time `at` (epoch ms), keeping at most `keep` points. */
  push(at: number, values: readonly (number | null)[]): void;
  /** Replaces every point; the time axis spans `range` (epoch ms) when given. */
  set(
    times: readonly number[],
    series: readonly (readonly (number | null)[])[],
    range?: { since: number; until: number },
  ): void;
}

export function lineChart(title: string, unit: string, series: readonly SeriesSpec[], keep = 300): LiveChart {
  const element = h('div', { class: 'chart', 'data-chart': title });
  let data: (number | null)[][] = [[], ...series.map(() => [])];
  const plot = new uPlot(
    {
      title,
      width: 520,
      height: 220,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: false }))],
      axes: [{}, { label: unit, size: 60 }],
      scales: { x: { time: true } },
    },
    data as uPlot.AlignedData,
    element,
  );
  // As wide as its place in the grid (narrower than 520 px on a phone).
  new ResizeObserver(() => {
    const style = getComputedStyle(element);
    const width = Math.floor(element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight));
    if (width > 0 && width !== plot.width) plot.setSize({ width, height: 220 });
  }).observe(element);
  const redraw = () => {
    plot.setData(data as uPlot.AlignedData);
    element.dataset['points'] = String(data[0]!.length);
    const peak = Math.max(0, ...data.slice(1).flatMap((s) => s.filter((v): v is number => v !== null)));
    element.dataset['peak'] = String(peak);
  };
  return {
    element,
    push(at, values) {
      data[0]!.push(at / 1000);
      values.forEach((v, i) => data[i + 1]!.push(v));
      if (data[0]!.length > keep) data = data.map((s) => s.slice(-keep));
      redraw();
    },
    set(times, values, range) {
      data = [times.map((t) => t / 1000), ...values.map((s) => [...s])];
      redraw();
      if (range) plot.setScale('x', { min: range.since / 1000, max: range.until / 1000 });
    },
  };
}
