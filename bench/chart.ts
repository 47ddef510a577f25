/**
 * Draws a benchmark's samples (bench-samples.ts) as one SVG: a panel per kind of sample the run
 * produced, one above the other (throughput over time, the latency distribution as a CDF,
 * failover trials), every series in its own colour so ours and a peer's from the same run read
 * side by side. Vega-Lite compiles the spec and Vega renders it headless (`toSVG`, renderer
 * 'none': no canvas, no browser, no DOM), so `npm run bench` draws it in plain Node.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchSamples, FailoverTrial, LatencySample } from './bench-samples.ts';
import { percentile } from './browser-util.ts';

const panelWidthPx = 640;
const panelHeightPx = 180;
/** A CDF needs no more points than the panel has pixels across. */
const cdfPointsPerSeriesMax = 400;

/** The latency CDF's points: for each series, its sorted samples against their percentile. */
function cdfPoints(samples: readonly LatencySample[]): { series: string; ms: number; percentile: number }[] {
  const bySeries = new Map<string, number[]>();
  for (const s of samples) {
    const list = bySeries.get(s.series) ?? [];
    list.push(s.ms);
    bySeries.set(s.series, list);
  }
  const out: { series: string; ms: number; percentile: number }[] = [];
  for (const [series, list] of bySeries) {
    list.sort((a, b) => a - b);
    const n = list.length;
    const step = Math.max(1, Math.floor(n / cdfPointsPerSeriesMax));
    for (let i = 0; i < n; i += step) out.push({ series, ms: list[i] as number, percentile: (100 * (i + 1)) / n });
    out.push({ series, ms: list[n - 1] as number, percentile: 100 });
  }
  return out;
}

/** A log scale when the samples span more than two decades (microsecond and second outliers together). */
function msScale(values: readonly number[]): { type: 'log' | 'linear' } {
  const positive = values.filter((v) => v > 0);
  if (positive.length === 0 || positive.length < values.length) return { type: 'linear' };
  return { type: Math.max(...positive) / Math.min(...positive) > 100 ? 'log' : 'linear' };
}

/**
 * Each series' median by the rule the benchmarks print theirs (browser-util.ts `percentile`,
 * nearest rank), so the bar sits where the JSON line's p50 says; Vega's own median averages the
 * middle two of an even count.
 */
function medians(trials: readonly FailoverTrial[]): { series: string; ms: number }[] {
  const bySeries = new Map<string, number[]>();
  for (const t of trials) bySeries.set(t.series, [...(bySeries.get(t.series) ?? []), t.ms]);
  return [...bySeries].map(([series, times]) => ({ series, ms: percentile(times, 0.5) as number }));
}

type Panel = Record<string, unknown>;

function panels(s: BenchSamples): Panel[] {
  const out: Panel[] = [];
  // One series a line, names in full: they say whose figures and under which settings.
  const color = { field: 'series', type: 'nominal', title: null, legend: { orient: 'top', direction: 'vertical', labelLimit: 0 } };
  if (s.throughput !== undefined && s.throughput.length > 0) {
    out.push({
      title: { text: `throughput over the run (${s.throughputUnit ?? 'operations/s'})`, fontSize: 12 },
      data: { values: s.throughput },
      mark: { type: 'line', point: s.throughput.length < 60 },
      encoding: {
        x: { field: 'tSec', type: 'quantitative', title: 'seconds since the measure started' },
        y: { field: 'perSec', type: 'quantitative', title: s.throughputUnit ?? 'operations/s' },
        color,
      },
    });
  }
  if (s.latency !== undefined && s.latency.length > 0) {
    const points = cdfPoints(s.latency);
    out.push({
      title: { text: `latency distribution (CDF): ${s.latencyLabel ?? 'latency'}`, fontSize: 12 },
      data: { values: points },
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'ms', type: 'quantitative', title: 'ms', scale: msScale(points.map((p) => p.ms)) },
        y: { field: 'percentile', type: 'quantitative', title: 'percent of samples at or below', scale: { domain: [0, 100] } },
        color,
      },
    });
  }
  if (s.failover !== undefined && s.failover.length > 0) {
    out.push({
      title: { text: `failover: ${s.failoverLabel ?? 'time until the system answers again'}`, subtitle: 'each trial a dot, the median a black bar', fontSize: 12 },
      data: { values: s.failover },
      layer: [
        {
          mark: { type: 'point', filled: true, opacity: 0.7, size: 60 },
          encoding: {
            x: { field: 'ms', type: 'quantitative', title: 'ms', scale: msScale(s.failover.map((f) => f.ms)) },
            // The legend names the rows; axis labels would be cut short.
            y: { field: 'series', type: 'nominal', title: null, axis: { labels: false, ticks: false } },
            color,
          },
        },
        { data: { values: medians(s.failover) }, mark: { type: 'tick', thickness: 3, size: 24 }, encoding: { x: { field: 'ms', type: 'quantitative' }, y: { field: 'series', type: 'nominal' }, color: { value: 'black' } } },
      ],
    });
  }
  return out;
}

/** The chart of one run as SVG text; null when the run produced no samples to draw. */
export async function renderChart(s: BenchSamples, footnote: string): Promise<string | null> {
  const parts = panels(s);
  if (parts.length === 0) return null;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: s.title, subtitle: footnote, anchor: 'start' },
    config: { view: { continuousWidth: panelWidthPx, continuousHeight: panelHeightPx }, font: 'sans-serif' },
    vconcat: parts.map((p) => ({ width: panelWidthPx, ...(p.layer === undefined ? { height: panelHeightPx } : {}), ...p })),
    resolve: { scale: { color: 'independent' } },
    background: 'white',
  } as unknown as TopLevelSpec;
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
