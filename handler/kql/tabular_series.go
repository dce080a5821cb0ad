package kql

import (
	"math"
	"time"
)

// make-series (https://learn.microsoft.com/kusto/query/make-series-operator):
// rows are grouped by the by-expressions and by bin_at(Axis, step, start);
// each aggregate of a group becomes an array with one element per bin from
// start (inclusive) to end (exclusive), DefaultValue (0 unless given) where a
// bin has no rows, and a last column holds the bins' axis values. Without
// from, each series starts at the first bin with data (bins aligned as bin()
// aligns them); without to, it ends after its last bin with data. The
// alternate syntax "on Axis in range(start, stop, step)" bins as bin() does
// and includes the bin of stop.

const maxSeriesBins = 1 << 20

// seriesAxis maps axis values to bin numbers and back: datetimes and
// timespans in integer ticks (exact), numbers as reals.
type seriesAxis struct {
	time           bool
	typ            string
	originT, stepT int64
	originF, stepF float64
	hasFrom, hasTo bool
	endIndex       int64 // with to: the first bin index not included
}

// ticksAt is the position of a datetime or timespan value in ticks.
func (a *seriesAxis) ticksAt(v any) (int64, bool) {
	switch x := v.(type) {
	case time.Time:
		return ticksOf(x), a.typ == "datetime"
	case time.Duration:
		return int64(x / tick), a.typ == "timespan"
	}
	return 0, false
}

// setOrigin makes v (a constant of the axis type) bin 0.
func (a *seriesAxis) setOrigin(v any) bool {
	if a.time {
		t, ok := a.ticksAt(v)
		a.originT = t
		return ok
	}
	f, ok := toReal(v)
	a.originF = f
	return ok
}

// index is the bin of v (floor), relative to the origin.
func (a *seriesAxis) index(v any) (int64, bool) {
	if a.time {
		t, ok := a.ticksAt(v)
		if !ok {
			return 0, false
		}
		return floorDiv(t-a.originT, a.stepT), true
	}
	f, ok := toReal(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return int64(math.Floor((f - a.originF) / a.stepF)), true
}

// ceilIndex is the number of bins from the origin to v, rounded up.
func (a *seriesAxis) ceilIndex(v any) (int64, bool) {
	if a.time {
		t, ok := a.ticksAt(v)
		if !ok {
			return 0, false
		}
		return -floorDiv(a.originT-t, a.stepT), true
	}
	f, ok := toReal(v)
	if !ok {
		return 0, false
	}
	return int64(math.Ceil((f - a.originF) / a.stepF)), true
}

func (a *seriesAxis) value(k int64) any {
	switch a.typ {
	case "datetime":
		return fromTicks(a.originT + k*a.stepT)
	case "timespan":
		return time.Duration(a.originT+k*a.stepT) * tick
	case "int", "long":
		return int64(a.originF + float64(k)*a.stepF)
	}
	return a.originF + float64(k)*a.stepF
}

func (x *exec) makeSeries(op *makeSeriesOp, in *Table) (*Table, error) {
	s := newScope(x, in.Columns)
	axis, err := s.scalar(op.axis)
	if err != nil {
		return nil, err
	}
	ax := &seriesAxis{typ: axis.typ, time: axis.typ == "datetime" || axis.typ == "timespan"}
	if !ax.time && !isNumericType(axis.typ) {
		return nil, errorf(op.axis.exprPos(), "make-series: the axis must be a datetime, timespan or number, got %s", axis.typ)
	}
	konstAt := func(e expr, what string) (any, error) {
		c, err := newScope(x, nil).scalar(e)
		if err != nil {
			return nil, err
		}
		v := c.fn(nil)
		_, ok := ax.index(v)
		if ax.time {
			_, ok = ax.ticksAt(v)
		}
		if !c.konst || !ok {
			return nil, errorf(e.exprPos(), "make-series: %s must be a constant of the axis type (%s)", what, axis.typ)
		}
		return v, nil
	}
	stepC, err := newScope(x, nil).scalar(op.step)
	if err != nil {
		return nil, err
	}
	if ax.time {
		d, ok := stepC.fn(nil).(time.Duration)
		if !stepC.konst || !ok || d < tick {
			return nil, errorf(op.step.exprPos(), "make-series: step must be a positive constant timespan")
		}
		ax.stepT = int64(d / tick)
		if axis.typ == "datetime" {
			ax.originT = ticksOf(epoch)
		}
	} else {
		f, ok := toReal(stepC.fn(nil))
		if !stepC.konst || !ok || f <= 0 {
			return nil, errorf(op.step.exprPos(), "make-series: step must be a positive constant number")
		}
		ax.stepF = f
	}
	if op.inRange {
		// in range(start, stop, step): bins as bin() makes them, from the bin
		// of start to the bin of stop, both included.
		lo, err := konstAt(op.from, "range start")
		if err != nil {
			return nil, err
		}
		hi, err := konstAt(op.to, "range stop")
		if err != nil {
			return nil, err
		}
		if ax.time {
			ax.originT = 0
			if axis.typ == "datetime" {
				ax.originT = ticksOf(epoch)
			}
		}
		first, _ := ax.index(lo)
		last, _ := ax.index(hi)
		if last-first+1 > maxSeriesBins {
			return nil, errorf(op.pos, "make-series: the range makes more than %d bins", maxSeriesBins)
		}
		// Shift the origin to the first bin, so that bins count from 0.
		if ax.time {
			ax.originT += first * ax.stepT
		} else {
			ax.originF += float64(first) * ax.stepF
		}
		ax.hasFrom, ax.hasTo, ax.endIndex = true, true, last-first+1
	}
	if op.from != nil && !op.inRange {
		v, err := konstAt(op.from, "from")
		if err != nil {
			return nil, err
		}
		ax.setOrigin(v)
		ax.hasFrom = true
	}
	if op.to != nil && !op.inRange {
		v, err := konstAt(op.to, "to")
		if err != nil {
			return nil, err
		}
		ax.hasTo = true
		ax.endIndex, _ = ax.ceilIndex(v)
		if ax.hasFrom && ax.endIndex > maxSeriesBins {
			return nil, errorf(op.pos, "make-series: from %s to %s step %s makes more than %d bins", toStr(newScopeValue(x, op.from)), toStr(newScopeValue(x, op.to)), toStr(newScopeValue(x, op.step)), maxSeriesBins)
		}
	}

	// Group columns and aggregates.
	nm := &namer{}
	var cols []Column
	var keys []compiled
	for _, b := range op.by {
		c, err := s.scalar(b.x)
		if err != nil {
			return nil, err
		}
		keys = append(keys, c)
		cols = append(cols, Column{Name: nm.name(b.x, givenName(b)), Type: c.typ})
	}
	type seriesAgg struct {
		def  *aggDef
		args []compiled
		typ  string
		def0 any
	}
	var sas []seriesAgg
	for i, a := range op.aggs {
		c, ok := a.x.(*call)
		if !ok || aggs[c.name] == nil {
			return nil, errorf(a.x.exprPos(), "make-series needs an aggregation function such as count() or avg(x)")
		}
		def := aggs[c.name]
		if def.new == nil {
			return nil, errorf(c.pos, "make-series: %s() is not supported here (its result is not one number)", c.name)
		}
		if len(c.args) < def.minArgs || def.maxArgs >= 0 && len(c.args) > def.maxArgs {
			return nil, errorf(c.pos, "aggregation '%s' takes %s, got %d", c.name, arity(&fnDef{minArgs: def.minArgs, maxArgs: def.maxArgs}), len(c.args))
		}
		args := make([]compiled, len(c.args))
		for j, e := range c.args {
			if args[j], err = s.scalar(e); err != nil {
				return nil, err
			}
		}
		typ, err := def.typ(args)
		if err != nil {
			return nil, errorf(c.pos, "%s(): %v", c.name, err)
		}
		var d0 any = int64(0)
		if op.defaults[i] != nil {
			dc, err := newScope(x, nil).scalar(op.defaults[i])
			if err != nil {
				return nil, err
			}
			if !dc.konst {
				return nil, errorf(op.defaults[i].exprPos(), "make-series: default must be a constant")
			}
			d0 = dc.fn(nil)
		}
		if d0 != nil && typ != "dynamic" {
			d0 = convertTo(typ, d0)
		}
		name := a.name
		if name == "" {
			name = def.name
		}
		if name == "" && len(c.args) > 0 {
			name = def.prefix + exprName(c.args[0])
		}
		if name == "" {
			name = nm.name(c, "")
		}
		sas = append(sas, seriesAgg{def: def, args: args, typ: typ, def0: d0})
		cols = append(cols, Column{Name: name, Type: "dynamic"})
	}
	axisName := exprName(op.axis)
	if axisName == "" {
		axisName = nm.name(op.axis, "")
	}
	cols = append(cols, Column{Name: axisName, Type: "dynamic"})
	uniqueNames(cols)

	type series struct {
		keys   []any
		bins   map[int64][]aggState
		lo, hi int64
	}
	index := map[string]*series{}
	var order []*series
	var buf []byte
	scratch := make([]any, len(keys))
	for n, r := range in.Rows {
		if n&4095 == 0 {
			if err := x.ctx.Err(); err != nil {
				return nil, err
			}
		}
		k, ok := ax.index(axis.fn(r))
		if !ok {
			continue
		}
		if ax.hasFrom && k < 0 || ax.hasTo && k >= ax.endIndex {
			continue
		}
		buf = buf[:0]
		for i, kc := range keys {
			scratch[i] = kc.fn(r)
			buf = appendKey(buf, scratch[i])
		}
		sr, ok := index[string(buf)]
		if !ok {
			sr = &series{keys: append([]any(nil), scratch...), bins: map[int64][]aggState{}, lo: k, hi: k}
			index[string(buf)] = sr
			order = append(order, sr)
		}
		states, ok := sr.bins[k]
		if !ok {
			states = make([]aggState, len(sas))
			for i, sa := range sas {
				states[i] = sa.def.new(sa.args)
			}
			sr.bins[k] = states
		}
		for _, st := range states {
			st.add(r)
		}
		sr.lo, sr.hi = min(sr.lo, k), max(sr.hi, k)
	}
	if len(order) == 0 && op.nonempty && len(keys) == 0 && ax.hasFrom && ax.hasTo {
		order = append(order, &series{bins: map[int64][]aggState{}, lo: 0, hi: ax.endIndex - 1})
	}
	out := &Table{Columns: cols}
	for _, sr := range order {
		lo, hi := sr.lo, sr.hi
		if ax.hasFrom {
			lo = 0
		}
		if ax.hasTo {
			hi = ax.endIndex - 1
		}
		if hi-lo+1 > maxSeriesBins {
			return nil, errorf(op.pos, "make-series: a series has more than %d bins", maxSeriesBins)
		}
		row := append([]any(nil), sr.keys...)
		arrays := make([][]any, len(sas))
		axisVals := make([]any, 0, max(hi-lo+1, 0))
		for k := lo; k <= hi; k++ {
			axisVals = append(axisVals, ax.value(k))
			states := sr.bins[k]
			for i, sa := range sas {
				if states == nil {
					arrays[i] = append(arrays[i], sa.def0)
					continue
				}
				arrays[i] = append(arrays[i], states[i].result())
			}
		}
		for _, a := range arrays {
			if a == nil {
				a = []any{}
			}
			row = append(row, a)
		}
		out.Rows = append(out.Rows, append(row, axisVals))
	}
	return out, nil
}

// newScopeValue evaluates a constant expression for a message.
func newScopeValue(x *exec, e expr) any {
	c, err := newScope(x, nil).scalar(e)
	if err != nil {
		return nil
	}
	return c.fn(nil)
}
