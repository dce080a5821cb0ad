package kql

import (
	"math"
	"sort"
	"strings"
)

// Series analysis functions: they take a numeric array (typically the output
// of make-series) and return several series, which extend (a, b, c) = f(...)
// spreads over columns (see multiResultFuncs in tabular_basic.go).
//
//   - series_fit_line (https://learn.microsoft.com/kusto/query/series-fit-line-function):
//     least-squares line over x = 1, 2, ..., n; variance and rvariance are
//     sample variances (divided by n-1), which reproduce the page's example.
//   - series_decompose_anomalies
//     (https://learn.microsoft.com/kusto/query/series-decompose-anomalies-function):
//     series_decompose (https://learn.microsoft.com/kusto/query/series-decompose-function)
//     gives the baseline and the residual; series_outliers
//     (https://learn.microsoft.com/kusto/query/series-outliers-function) scores
//     the residual with Tukey's fences; the threshold turns scores into
//     flags. The pages give the method but not every formula; see
//     decomposeSeries, seriesOutliers and detectPeriod for the choices made.

func init() {
	register(map[string]*fnDef{
		"series_fit_line":            {minArgs: 1, maxArgs: 1, ret: "dynamic", eval: seriesFitLineFn},
		"series_decompose_anomalies": {minArgs: 1, maxArgs: 7, ret: "dynamic", eval: seriesDecomposeAnomaliesFn},
	})
}

// seriesValues reads a numeric array; elements that are not numbers are
// missing (ok false), and do not take part in learning.
func seriesValues(v any) (xs []float64, ok []bool, isArray bool) {
	arr, isArr := v.([]any)
	if !isArr {
		return nil, nil, false
	}
	xs, ok = make([]float64, len(arr)), make([]bool, len(arr))
	for i, e := range arr {
		switch e.(type) {
		case int64, float64, bool:
			xs[i], ok[i] = toReal(e)
			if math.IsNaN(xs[i]) || math.IsInf(xs[i], 0) {
				ok[i] = false
			}
		}
	}
	return xs, ok, true
}

func realsToDynamic(xs []float64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// lineFit is the least-squares line y = slope*x + interception over
// x = 1..n (the x of series_fit_line), using the points marked in use.
func lineFit(ys []float64, use []bool) (slope, interception float64, ok bool) {
	var n, sx, sy float64
	for i, y := range ys {
		if use[i] {
			n++
			sx += float64(i + 1)
			sy += y
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for i, y := range ys {
		if use[i] {
			dx := float64(i+1) - mx
			sxy += dx * (y - my)
			sxx += dx * dx
		}
	}
	if sxx == 0 {
		return 0, my, true
	}
	slope = sxy / sxx
	return slope, my - slope*mx, true
}

// seriesFitLineFn returns rsquare, slope, variance, rvariance, interception
// and line_fit.
func seriesFitLineFn(a []any) any {
	ys, use, isArr := seriesValues(a[0])
	if !isArr {
		return nil
	}
	slope, icept, ok := lineFit(ys, use)
	if !ok {
		return []any{nil, nil, nil, nil, nil, []any{}}
	}
	fit := make([]float64, len(ys))
	var n, sum float64
	for i, y := range ys {
		fit[i] = slope*float64(i+1) + icept
		if use[i] {
			n++
			sum += y
		}
	}
	mean := sum / n
	var ss, rs float64
	for i, y := range ys {
		if use[i] {
			ss += (y - mean) * (y - mean)
			rs += (y - fit[i]) * (y - fit[i])
		}
	}
	variance, rvariance, rsquare := 0.0, 0.0, 1.0
	if n > 1 {
		variance, rvariance = ss/(n-1), rs/(n-1)
	}
	if ss > 0 {
		rsquare = 1 - rs/ss
	}
	return []any{rsquare, slope, variance, rvariance, icept, realsToDynamic(fit)}
}

// decomposition is what series_decompose computes.
type decomposition struct {
	baseline, seasonal, trend, residual []float64
	period                              int
}

// decomposeSeries follows series_decompose's order: the seasonal component
// (the median of the learning points in the same phase, 0 without a period),
// then the trend of the deseasonalized series ("avg": its average;
// "linefit": its least-squares line; "none": 0), baseline = seasonal +
// trend, residual = x - baseline. The last testPoints points are left out
// of the learning. seasonality -1 detects the period (detectPeriod).
func decomposeSeries(xs []float64, ok []bool, seasonality int, trend string, testPoints int, seasonalityThreshold float64) decomposition {
	n := len(xs)
	learn := make([]bool, n)
	for i := range xs {
		learn[i] = ok[i] && i < n-testPoints
	}
	d := decomposition{baseline: make([]float64, n), seasonal: make([]float64, n), trend: make([]float64, n), residual: make([]float64, n)}
	period := seasonality
	if seasonality < 0 {
		period = detectPeriod(xs, learn, seasonalityThreshold)
	}
	if period > 0 {
		d.period = period
		medians := make([]float64, period)
		for ph := 0; ph < period; ph++ {
			var vals []float64
			for i := ph; i < n; i += period {
				if learn[i] {
					vals = append(vals, xs[i])
				}
			}
			medians[ph] = median(vals)
		}
		for i := range xs {
			d.seasonal[i] = medians[i%period]
		}
	}
	deseason := make([]float64, n)
	for i, x := range xs {
		deseason[i] = x - d.seasonal[i]
	}
	switch trend {
	case "linefit":
		if slope, icept, fitted := lineFit(deseason, learn); fitted {
			for i := range d.trend {
				d.trend[i] = slope*float64(i+1) + icept
			}
		}
	case "none":
	default: // avg
		var sum, cnt float64
		for i, v := range deseason {
			if learn[i] {
				sum += v
				cnt++
			}
		}
		if cnt > 0 {
			for i := range d.trend {
				d.trend[i] = sum / cnt
			}
		}
	}
	for i, x := range xs {
		d.baseline[i] = d.seasonal[i] + d.trend[i]
		d.residual[i] = x - d.baseline[i]
	}
	return d
}

// detectPeriod stands in for series_periods_detect, whose algorithm the
// documentation does not give: it scores each period p from 4 points to
// half the learning points by the autocorrelation of the series at lag p
// (mean removed, each lag averaged over its own pairs, so that long lags
// are not penalized) and returns the best-scoring period when its score
// reaches the threshold (default 0.6), otherwise 0 (no seasonality); of a
// period and its multiples, which score alike, it keeps the period.
func detectPeriod(xs []float64, learn []bool, threshold float64) int {
	// the learning points in order; a missing point takes the mean of the
	// others, and the test points at the end are left out
	var vals []float64
	var sum float64
	for i, x := range xs {
		if learn[i] {
			sum += x
		}
	}
	last := -1
	for i := range xs {
		if learn[i] {
			last = i
		}
	}
	for i := 0; i <= last; i++ {
		if learn[i] {
			vals = append(vals, xs[i])
		} else {
			vals = append(vals, math.NaN())
		}
	}
	present := 0
	for _, v := range vals {
		if !math.IsNaN(v) {
			present++
		}
	}
	for i, v := range vals {
		if math.IsNaN(v) {
			vals[i] = sum / float64(present)
		}
	}
	n := len(vals)
	if n < 8 {
		return 0
	}
	var mean float64
	for _, v := range vals {
		mean += v
	}
	mean /= float64(n)
	var c0 float64
	for _, v := range vals {
		c0 += (v - mean) * (v - mean)
	}
	c0 /= float64(n)
	if c0 == 0 {
		return 0
	}
	scores := make([]float64, n/2+1)
	best, bestScore := 0, 0.0
	for p := 4; p <= n/2; p++ {
		var c float64
		for i := 0; i+p < n; i++ {
			c += (vals[i] - mean) * (vals[i+p] - mean)
		}
		scores[p] = c / float64(n-p) / c0
		if scores[p] > bestScore+1e-12 {
			best, bestScore = p, scores[p]
		}
	}
	if bestScore < threshold {
		return 0
	}
	// a multiple of the period repeats as well: keep the smallest divisor
	// of the best period that scores nearly as well (within 10%)
	for d := 4; d < best; d++ {
		if best%d == 0 && scores[d] >= 0.9*bestScore && scores[d] >= threshold {
			return d
		}
	}
	return best
}

func median(vals []float64) float64 {
	if len(vals) == 0 {
		return 0
	}
	s := append([]float64(nil), vals...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// percentileOf is the p-th percentile (0..100) of sorted values, linearly
// interpolated between the closest ranks.
func percentileOf(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// seriesOutliers scores each point with Tukey's test: with q1 and q3 the
// low and high percentiles of the learning points (10th and 90th for
// "ctukey", 25th and 75th for "tukey"), a point above q3 scores
// (x - q3) / (q3 - q1), a point below q1 scores (x - q1) / (q3 - q1), and
// the others 0, so that a score beyond 1.5 is outside Tukey's fences with
// k = 1.5. When q3 == q1 (a series that is mostly one value, as sparse
// counts are), the range is the mean absolute deviation from the median
// instead, so that the other values still get finite scores. Missing
// points score 0.
func seriesOutliers(xs []float64, learn []bool, method string) []float64 {
	lo, hi := 10.0, 90.0
	if method == "tukey" {
		lo, hi = 25, 75
	}
	var vals []float64
	for i, x := range xs {
		if learn[i] {
			vals = append(vals, x)
		}
	}
	scores := make([]float64, len(xs))
	if len(vals) == 0 {
		return scores
	}
	sort.Float64s(vals)
	q1, q3 := percentileOf(vals, lo), percentileOf(vals, hi)
	rng := q3 - q1
	if rng <= 0 {
		med := median(vals)
		var dev float64
		for _, v := range vals {
			dev += math.Abs(v - med)
		}
		rng = dev / float64(len(vals))
	}
	if rng <= 0 {
		return scores
	}
	for i, x := range xs {
		switch {
		case math.IsNaN(x):
		case x > q3:
			scores[i] = (x - q3) / rng
		case x < q1:
			scores[i] = (x - q1) / rng
		}
	}
	return scores
}

// seriesDecomposeAnomaliesFn takes (series, threshold = 1.5, seasonality =
// -1, trend = "avg", test_points = 0, ad_method = "ctukey",
// seasonality_threshold = 0.6) and returns ad_flag, ad_score and baseline.
func seriesDecomposeAnomaliesFn(a []any) any {
	xs, ok, isArr := seriesValues(a[0])
	if !isArr {
		return nil
	}
	threshold, seasonality, trend, testPoints, method, seasonThreshold := 1.5, -1, "avg", 0, "ctukey", 0.6
	arg := func(i int) (any, bool) {
		if i < len(a) && a[i] != nil {
			return a[i], true
		}
		return nil, false
	}
	if v, has := arg(1); has {
		if f, fine := toReal(v); fine {
			threshold = f
		}
	}
	if v, has := arg(2); has {
		if k, fine := toLong(v); fine {
			seasonality = int(k)
		}
	}
	if v, has := arg(3); has {
		if s, fine := v.(string); fine && s != "" {
			trend = strings.ToLower(s)
		}
	}
	if v, has := arg(4); has {
		if k, fine := toLong(v); fine && k > 0 {
			testPoints = int(k)
		}
	}
	if v, has := arg(5); has {
		if s, fine := v.(string); fine && s != "" {
			method = strings.ToLower(s)
		}
	}
	if v, has := arg(6); has {
		if f, fine := toReal(v); fine {
			seasonThreshold = f
		}
	}
	if testPoints > len(xs) {
		testPoints = len(xs)
	}
	d := decomposeSeries(xs, ok, seasonality, trend, testPoints, seasonThreshold)
	learn := make([]bool, len(xs))
	resid := make([]float64, len(xs))
	for i := range xs {
		learn[i] = ok[i] && i < len(xs)-testPoints
		resid[i] = d.residual[i]
		if !ok[i] {
			resid[i] = math.NaN()
		}
	}
	scores := seriesOutliers(resid, learn, method)
	flags := make([]any, len(xs))
	for i, s := range scores {
		switch {
		case s > threshold:
			flags[i] = int64(1)
		case s < -threshold:
			flags[i] = int64(-1)
		default:
			flags[i] = int64(0)
		}
	}
	return []any{flags, realsToDynamic(scores), realsToDynamic(d.baseline)}
}
