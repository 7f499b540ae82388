/**
 * A small log-linear latency histogram (in the spirit of HdrHistogram): values are recorded in
 * microseconds into buckets whose width is at most 1/128 of their value, so every percentile is
 * within 0.8 % of the true one, memory is fixed (3,200 counters) and histograms from several
 * processes merge exactly. Replace with `hdr-histogram-js` if it is ever added to the project.
 */

/** Sub-buckets per power of two: the relative resolution is 1/SUB. */
const SUB = 128;
const SUB_BITS = 7;
/** Values up to 2^31 µs (about 35 minutes) are kept; larger ones are clamped to the top bucket. */
const MAX_VALUE_US = 2 ** 31 - 1;
const BUCKETS = (31 - SUB_BITS) * SUB + SUB;

/** A histogram as it travels between processes: non-empty buckets only. */
export interface HistogramData {
  buckets: [number, number][];
  count: number;
  sumUs: number;
  minUs: number;
  maxUs: number;
}

/** Percentiles of a histogram in milliseconds (NaN when it is empty). */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

function indexOf(valueUs: number): number {
  if (valueUs < 2 * SUB) return valueUs;
  const msb = 31 - Math.clz32(valueUs);
  const shift = msb - SUB_BITS;
  return shift * SUB + (valueUs >>> shift);
}

/** The highest value that lands in bucket `index` (reported values err on the high side). */
function upperOf(index: number): number {
  if (index < 2 * SUB) return index;
  const shift = Math.floor(index / SUB) - 1;
  const top = index - shift * SUB;
  return ((top + 1) << shift) - 1;
}

/** Latencies in milliseconds, recorded at microsecond resolution. */
export class Histogram {
  private counts = new Uint32Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  /** Records one latency in milliseconds (negative values, from clock skew, count as zero). */
  record(ms: number): void {
    const us = Math.min(MAX_VALUE_US, Math.max(0, Math.round(ms * 1000)));
    this.counts[indexOf(us)]! += 1;
    this.total += 1;
    this.sum += us;
    if (us < this.min) this.min = us;
    if (us > this.max) this.max = us;
  }

  /** Number of recorded values. */
  get count(): number {
    return this.total;
  }

  /** The value (ms) below which `quantile` (0..1) of the recorded values fall. */
  percentile(quantile: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(quantile * this.total));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.counts[index]!;
      if (seen >= rank) return Math.min(upperOf(index), this.max) / 1000;
    }
    return this.max / 1000;
  }

  /** Adds another histogram's values to this one. */
  merge(other: Histogram | HistogramData): this {
    const data = other instanceof Histogram ? other.toJSON() : other;
    for (const [index, count] of data.buckets) this.counts[index]! += count;
    this.total += data.count;
    this.sum += data.sumUs;
    if (data.count > 0) {
      this.min = Math.min(this.min, data.minUs);
      this.max = Math.max(this.max, data.maxUs);
    }
    return this;
  }

  /** The common percentiles, in milliseconds. */
  summary(): LatencySummary {
    return {
      count: this.total,
      mean: this.total === 0 ? Number.NaN : this.sum / this.total / 1000,
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      p99: this.percentile(0.99),
      p999: this.percentile(0.999),
      max: this.total === 0 ? Number.NaN : this.max / 1000,
    };
  }

  /** The non-empty buckets, for sending to another process or writing to JSON. */
  toJSON(): HistogramData {
    const buckets: [number, number][] = [];
    for (let index = 0; index < BUCKETS; index++) {
      const count = this.counts[index]!;
      if (count > 0) buckets.push([index, count]);
    }
    return {
      buckets,
      count: this.total,
      sumUs: this.sum,
      minUs: this.total === 0 ? 0 : this.min,
      maxUs: this.max,
    };
  }

  /** Rebuilds a histogram sent by another process. */
  static from(data: HistogramData): Histogram {
    return new Histogram().merge(data);
  }

  /** Merges many histograms (or their data) into a new one. */
  static mergeAll(parts: Iterable<Histogram | HistogramData | undefined>): Histogram {
    const merged = new Histogram();
    for (const part of parts) if (part) merged.merge(part);
    return merged;
  }
}

/** Shorthand: the summary of a list of values in milliseconds. */
export function summarize(values: Iterable<number>): LatencySummary {
  const histogram = new Histogram();
  for (const value of values) histogram.record(value);
  return histogram.summary();
}
