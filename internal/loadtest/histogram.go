package loadtest

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records latencies in fixed log-linear buckets, as HDR
// histograms do: values below 128 ns are exact, and every power of two
// above is split into 64 buckets, so a reported percentile is within 1/64
// (1.6%) of the true value while memory stays fixed (18 KiB) however many
// requests are recorded. The zero value is ready to use; a Histogram is not
// safe for concurrent use: each worker keeps its own and they are merged.
type Histogram struct {
	counts [numBuckets]uint64
	total  uint64
	sum    float64 // nanoseconds, for the mean
	max    int64
}

const (
	subBits    = 6            // 64 sub-buckets per power of two
	linear     = 2 << subBits // values below this are their own bucket
	maxShift   = 40 - subBits // values up to 2^41 ns (36 minutes)
	numBuckets = linear + maxShift*(1<<subBits)
)

// bucketOf returns the bucket index of a value in nanoseconds.
func bucketOf(v int64) int {
	if v < linear {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	if shift > maxShift {
		return numBuckets - 1
	}
	top := v >> shift // in [64, 128)
	return linear + (shift-1)*(1<<subBits) + int(top-(1<<subBits))
}

// bucketUpper returns the largest value bucket i holds.
func bucketUpper(i int) int64 {
	if i < linear {
		return int64(i)
	}
	shift := (i-linear)/(1<<subBits) + 1
	top := int64((i-linear)%(1<<subBits)) + (1 << subBits)
	return (top+1)<<shift - 1
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	v := d.Nanoseconds()
	h.counts[bucketOf(v)]++
	h.total++
	h.sum += float64(v)
	if v > h.max {
		h.max = v
	}
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Max returns the largest recorded value, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the mean of the recorded values.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.total))
}

// Quantile returns the q-quantile (0 < q ≤ 1): the upper bound of the
// bucket holding the value of rank ceil(q·n), never more than Max. Upper
// bounds make the answer conservative: the true value is at most this.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketUpper(i), h.max))
		}
	}
	return time.Duration(h.max)
}

// Bin is one bar of a latency distribution: the requests that took at most
// UpToMillis and more than the previous bin's bound.
type Bin struct {
	UpToMillis float64 `json:"upToMs"`
	Count      uint64  `json:"count"`
}

// Distribution groups the histogram into coarse bins with bounds 1, 2 and
// 5 times a power of ten, from 10 µs to the bin that holds the maximum, for
// charts. Empty bins below the first and above the last value are left out.
func (h *Histogram) Distribution() []Bin {
	if h.total == 0 {
		return nil
	}
	var bounds []int64 // nanoseconds
	for p := int64(10_000); ; p *= 10 {
		bounds = append(bounds, p, 2*p, 5*p)
		if 5*p >= h.max {
			break
		}
	}
	bins := make([]Bin, len(bounds))
	for i, b := range bounds {
		bins[i].UpToMillis = float64(b) / 1e6
	}
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		v := bucketUpper(i)
		j := 0
		for j < len(bounds)-1 && v > bounds[j] {
			j++
		}
		bins[j].Count += c
	}
	first, last := 0, len(bins)-1
	for first < last && bins[first].Count == 0 {
		first++
	}
	for last > first && bins[last].Count == 0 {
		last--
	}
	return bins[first : last+1]
}
