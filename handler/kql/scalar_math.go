package kql

import (
	byteorder "encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// More math (trigonometry, logarithms, sign), bitwise functions, tohex,
// rand and the hash functions.

func init() {
	register(map[string]*fnDef{
		"acos":     {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Acos)},
		"asin":     {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Asin)},
		"atan":     {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Atan)},
		"atan2":    {minArgs: 2, maxArgs: 2, ret: "real", eval: realFn2(math.Atan2)},
		"cos":      {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Cos)},
		"sin":      {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Sin)},
		"tan":      {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Tan)},
		"cot":      {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(func(x float64) float64 { return 1 / math.Tan(x) })},
		"degrees":  {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(func(x float64) float64 { return x * 180 / math.Pi })},
		"radians":  {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(func(x float64) float64 { return x * math.Pi / 180 })},
		"pi":       {minArgs: 0, maxArgs: 0, ret: "real", eval: func([]any) any { return math.Pi }},
		"log2":     {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Log2)},
		"exp2":     {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Exp2)},
		"exp10":    {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(func(x float64) float64 { return math.Pow(10, x) })},
		"gamma":    {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Gamma)},
		"loggamma": {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(func(x float64) float64 { v, _ := math.Lgamma(x); return v })},
		"isfinite": {minArgs: 1, maxArgs: 1, ret: "bool", eval: realTest(func(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) })},
		"isinf":    {minArgs: 1, maxArgs: 1, ret: "bool", eval: realTest(func(x float64) bool { return math.IsInf(x, 0) })},
		"sign":     {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(func(x float64) float64 { return float64(cmp3(x < 0, x > 0)) })},
		// https://learn.microsoft.com/kusto/query/binary-and-function and its siblings
		"binary_and":         {minArgs: 2, maxArgs: 2, ret: "long", eval: longFn2(func(x, y int64) int64 { return x & y })},
		"binary_or":          {minArgs: 2, maxArgs: 2, ret: "long", eval: longFn2(func(x, y int64) int64 { return x | y })},
		"binary_xor":         {minArgs: 2, maxArgs: 2, ret: "long", eval: longFn2(func(x, y int64) int64 { return x ^ y })},
		"binary_shift_left":  {minArgs: 2, maxArgs: 2, ret: "long", eval: longFn2(func(x, y int64) int64 { return x << uint64(y&63) })},
		"binary_shift_right": {minArgs: 2, maxArgs: 2, ret: "long", eval: longFn2(func(x, y int64) int64 { return x >> uint64(y&63) })},
		"binary_not":         {minArgs: 1, maxArgs: 1, ret: "long", eval: func(a []any) any { x, ok := toLong(a[0]); return nullUnless(ok, ^x) }},
		"bitset_count_ones":  {minArgs: 1, maxArgs: 1, ret: "long", eval: func(a []any) any { x, ok := toLong(a[0]); return nullUnless(ok, int64(bits.OnesCount64(uint64(x)))) }},
		"tohex":              {minArgs: 1, maxArgs: 2, build: buildTohex},
		"rand":               {minArgs: 0, maxArgs: 1, build: buildRand},
		// https://learn.microsoft.com/kusto/query/hash-function: xxhash64 of
		// the value (UTF-8 for strings, the 8-byte ticks for datetimes).
		"hash":          {minArgs: 1, maxArgs: 2, ret: "long", eval: hashFn},
		"hash_xxhash64": {minArgs: 1, maxArgs: 2, ret: "long", eval: hashFn},
	})
}

func realFn2(f func(x, y float64) float64) func(a []any) any {
	return func(a []any) any {
		x, ok1 := toReal(a[0])
		y, ok2 := toReal(a[1])
		if !ok1 || !ok2 {
			return nil
		}
		return f(x, y)
	}
}

func realTest(f func(float64) bool) func(a []any) any {
	return func(a []any) any {
		x, ok := toReal(a[0])
		if !ok {
			return nil
		}
		return f(x)
	}
}

func longFn2(f func(x, y int64) int64) func(a []any) any {
	return func(a []any) any {
		x, ok1 := toLong(a[0])
		y, ok2 := toLong(a[1])
		if !ok1 || !ok2 || !isIntegral(a[0]) || !isIntegral(a[1]) {
			return nil
		}
		return f(x, y)
	}
}

func isIntegral(v any) bool {
	switch x := v.(type) {
	case int64:
		return true
	case float64:
		return x == math.Trunc(x)
	}
	return false
}

func nullUnless(ok bool, v any) any {
	if !ok {
		return nil
	}
	return v
}

// tohex(value [, minLength]): lowercase hex; negative ints use 8 digits and
// longs 16 (two's complement); minLength pads with zeros, up to 16
// (https://learn.microsoft.com/kusto/query/tohex-function).
func buildTohex(s *scope, c *call, args []compiled) (compiled, error) {
	is32 := args[0].typ == "int"
	return fold(compiled{typ: "string", fn: func(r []any) any {
		v, ok := args[0].fn(r).(int64)
		if !ok {
			return nil
		}
		var h string
		if is32 {
			h = strconv.FormatUint(uint64(uint32(v)), 16)
		} else {
			h = strconv.FormatUint(uint64(v), 16)
		}
		if len(args) > 1 {
			n, ok := toLong(args[1].fn(r))
			if !ok {
				return nil
			}
			if n = min(n, 16); int(n) > len(h) {
				h = strings.Repeat("0", int(n)-len(h)) + h
			}
		}
		return h
	}}, args...), nil
}

// rand() is a real in [0, 1); rand(n) a long in [0, n). It is never folded.
func buildRand(s *scope, c *call, args []compiled) (compiled, error) {
	if len(args) == 0 {
		return compiled{typ: "real", fn: func([]any) any { return rand.Float64() }}, nil
	}
	n := args[0]
	return compiled{typ: "long", fn: func(r []any) any {
		m, ok := toLong(n.fn(r))
		if !ok || m <= 0 {
			return nil
		}
		return rand.Int64N(m)
	}}, nil
}

// hashFn is hash(source [, mod]): xxhash64 with seed 0, as a long; with mod,
// the unsigned hash modulo mod.
func hashFn(a []any) any {
	b, ok := hashBytes(a[0])
	if !ok {
		return nil
	}
	h := xxhash64(b, 0)
	if len(a) > 1 {
		m, ok := toLong(a[1])
		if !ok || m <= 0 {
			return nil
		}
		return int64(h % uint64(m))
	}
	return int64(h)
}

// hashBytes is the byte form that hash() digests: UTF-8 text, little-endian
// 8-byte ticks for datetimes (checked against the docs' examples), and
// little-endian 8-byte values for numbers and timespans.
func hashBytes(v any) ([]byte, bool) {
	le := func(u uint64) []byte { return byteorder.LittleEndian.AppendUint64(nil, u) }
	switch x := v.(type) {
	case nil:
		return nil, false
	case string:
		return []byte(x), true
	case time.Time:
		return le(uint64(ticksOf(x) - ticksOf(epoch))), true
	case time.Duration:
		return le(uint64(x / tick)), true
	case int64:
		return le(uint64(x)), true
	case float64:
		return le(math.Float64bits(x)), true
	case bool:
		if x {
			return []byte{1}, true
		}
		return []byte{0}, true
	}
	return []byte(jsonText(v)), true
}

const (
	xxP1 uint64 = 11400714785074694791
	xxP2 uint64 = 14029467366897019727
	xxP3 uint64 = 1609587929392839161
	xxP4 uint64 = 9650029242287828579
	xxP5 uint64 = 2870177450012600261
)

func xxRound(acc, in uint64) uint64 {
	acc += in * xxP2
	return bits.RotateLeft64(acc, 31) * xxP1
}

func xxMerge(acc, v uint64) uint64 { return (acc^xxRound(0, v))*xxP1 + xxP4 }

// xxhash64 is the XXH64 hash (https://github.com/Cyan4973/xxHash).
func xxhash64(b []byte, seed uint64) uint64 {
	n := len(b)
	var h uint64
	if n >= 32 {
		v1, v2, v3, v4 := seed+xxP1+xxP2, seed+xxP2, seed, seed-xxP1
		for len(b) >= 32 {
			v1 = xxRound(v1, byteorder.LittleEndian.Uint64(b))
			v2 = xxRound(v2, byteorder.LittleEndian.Uint64(b[8:]))
			v3 = xxRound(v3, byteorder.LittleEndian.Uint64(b[16:]))
			v4 = xxRound(v4, byteorder.LittleEndian.Uint64(b[24:]))
			b = b[32:]
		}
		h = bits.RotateLeft64(v1, 1) + bits.RotateLeft64(v2, 7) + bits.RotateLeft64(v3, 12) + bits.RotateLeft64(v4, 18)
		h = xxMerge(xxMerge(xxMerge(xxMerge(h, v1), v2), v3), v4)
	} else {
		h = seed + xxP5
	}
	h += uint64(n)
	for ; len(b) >= 8; b = b[8:] {
		h ^= xxRound(0, byteorder.LittleEndian.Uint64(b))
		h = bits.RotateLeft64(h, 27)*xxP1 + xxP4
	}
	if len(b) >= 4 {
		h ^= uint64(byteorder.LittleEndian.Uint32(b)) * xxP1
		h = bits.RotateLeft64(h, 23)*xxP2 + xxP3
		b = b[4:]
	}
	for _, c := range b {
		h ^= uint64(c) * xxP5
		h = bits.RotateLeft64(h, 11) * xxP1
	}
	h ^= h >> 33
	h *= xxP2
	h ^= h >> 29
	h *= xxP3
	h ^= h >> 32
	return h
}
