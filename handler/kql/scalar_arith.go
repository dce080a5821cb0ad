package kql

import (
	"math"
	"time"
)

// Arithmetic operators (+ - * / %) on numbers, datetimes and timespans: the
// static result type of each pairing, and the computation at run time.

// arithType is the static result type of l op r.
func arithType(op, l, r string) (string, error) {
	switch {
	case dynamicLike(l) || dynamicLike(r):
		return "dynamic", nil
	case isNumericType(l) && isNumericType(r):
		if op == "/" && (l == "real" || r == "real") || l == "real" || r == "real" {
			return "real", nil
		}
		if l == "decimal" || r == "decimal" {
			return "decimal", nil
		}
		if l == "long" || r == "long" {
			return "long", nil
		}
		return "int", nil
	case l == "datetime" && r == "datetime" && op == "-":
		return "timespan", nil
	case l == "datetime" && r == "timespan" && (op == "+" || op == "-"), l == "timespan" && r == "datetime" && op == "+":
		return "datetime", nil
	case l == "timespan" && r == "timespan":
		switch op {
		case "+", "-", "%":
			return "timespan", nil
		case "/":
			return "real", nil
		}
	case l == "timespan" && isNumericType(r) && (op == "*" || op == "/"), isNumericType(l) && r == "timespan" && op == "*":
		return "timespan", nil
	}
	hint := ""
	if l == "string" || r == "string" {
		hint = " (use strcat() to join strings)"
	}
	return "", &literalError{typ: "operator", text: op + "' is not defined for " + l + " and " + r + hint}
}

// arith computes a op b for the runtime kinds at hand; null or undefined gives null.
func arith(op string, a, b any) any {
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return intArith(op, x, y)
		case float64:
			return realArith(op, float64(x), y)
		case time.Duration:
			if op == "*" {
				return time.Duration(x) * y
			}
		}
	case float64:
		switch y := b.(type) {
		case int64:
			return realArith(op, x, float64(y))
		case float64:
			return realArith(op, x, y)
		case time.Duration:
			if op == "*" {
				return time.Duration(x * float64(y))
			}
		}
	case time.Time:
		switch y := b.(type) {
		case time.Duration:
			switch op {
			case "+":
				return x.Add(y)
			case "-":
				return x.Add(-y)
			}
		case time.Time:
			if op == "-" {
				return x.Sub(y)
			}
		}
	case time.Duration:
		switch y := b.(type) {
		case time.Duration:
			switch op {
			case "+":
				return x + y
			case "-":
				return x - y
			case "/":
				if y == 0 {
					return nil
				}
				return float64(x) / float64(y)
			case "%":
				if y == 0 {
					return nil
				}
				return x % y
			}
		case time.Time:
			if op == "+" {
				return y.Add(x)
			}
		case int64:
			switch op {
			case "*":
				return x * time.Duration(y)
			case "/":
				if y == 0 {
					return nil
				}
				return x / time.Duration(y)
			}
		case float64:
			switch op {
			case "*":
				return time.Duration(float64(x) * y)
			case "/":
				if y == 0 {
					return nil
				}
				return time.Duration(float64(x) / y)
			}
		}
	}
	return nil
}

func intArith(op string, x, y int64) any {
	switch op {
	case "+":
		return x + y
	case "-":
		return x - y
	case "*":
		return x * y
	case "/":
		if y == 0 {
			return nil
		}
		return x / y
	case "%":
		if y == 0 {
			return nil
		}
		return x % y
	}
	return nil
}

func realArith(op string, x, y float64) any {
	switch op {
	case "+":
		return x + y
	case "-":
		return x - y
	case "*":
		return x * y
	case "/":
		return x / y
	case "%":
		return math.Mod(x, y)
	}
	return nil
}
