package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// HUNT_SCHEDULE is read by the Functions host, not by huntwatch: function.json names it as
// %HUNT_SCHEDULE%, and the host's timer trigger parses the value with NCrontab, seconds included.
// A value the host cannot parse does not stop the app; the function silently never fires. So
// huntwatch checks the value at start-up with the rules below, which follow NCrontab's:
//
//	seconds minutes hours day-of-month month day-of-week
//	0-59    0-59    0-23  1-31         1-12  0-6 (0 is Sunday)
//
// Each field is *, a value, a range a-b, a step */n, a-b/n or a/n (a to the end), or a list of
// those separated by commas. Months and days may be named (JAN, January, mon, ...). Fields are
// separated by spaces only: the host does not split on tabs or line breaks.
//
// It is a little stricter than NCrontab where NCrontab's reading is surely not what was meant:
// a backwards range (NCrontab swaps 22-2 into 2-22, silently), a step of 0, a one- or two-letter
// name (NCrontab takes the first name it prefixes: "J" is January, "S" Sunday), and a day of the
// month that no chosen month has (31 in FEB), which never fires.

// cronField is one field of an NCRONTAB expression.
type cronField struct {
	name     string
	min, max int
	names    []string // full names of min, min+1, ...; any prefix of three letters or more names one
	hint     string   // appended to an out-of-range error
}

var cronFields = []cronField{
	{name: "seconds", min: 0, max: 59},
	{name: "minutes", min: 0, max: 59},
	{name: "hours", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"january", "february", "march", "april", "may", "june",
		"july", "august", "september", "october", "november", "december"}},
	{name: "day-of-week", min: 0, max: 6, names: []string{"sunday", "monday", "tuesday", "wednesday", "thursday",
		"friday", "saturday"}, hint: " (Sunday is 0; NCRONTAB has no 7)"},
}

// timeSpan matches the .NET TimeSpan form ([d.]hh:mm[:ss[.fffffff]]) the host also accepts.
var timeSpan = regexp.MustCompile(`^-?(\d+\.)?\d{1,2}:\d{1,2}(:\d{1,2}(\.\d{1,7})?)?$`)

// checkSchedule returns what is wrong with expr as the timer's NCRONTAB schedule, or nil.
func checkSchedule(expr string) error {
	if strings.ContainsAny(expr, "\t\n\r\v\f") {
		return errors.New("contains a tab or line break; the Functions host splits the fields on spaces only and would take it as part of a field")
	}
	trimmed := strings.TrimSpace(expr)
	switch {
	case len(trimmed) > 2 && strings.HasPrefix(trimmed, "%") && strings.HasSuffix(trimmed, "%"):
		return errors.New(`a %SETTING% reference; function.json already reads %HUNT_SCHEDULE%, so this setting holds the NCRONTAB expression itself, e.g. "0 0 * * * *"`)
	case timeSpan.MatchString(trimmed):
		return errors.New(`a TimeSpan (hh:mm:ss), which the Functions host runs only on an App Service plan, not on Flex Consumption; give a six-field NCRONTAB expression instead, e.g. "0 */30 * * * *" for every 30 minutes`)
	}
	fields := strings.Fields(trimmed)
	if len(fields) != len(cronFields) {
		msg := fmt.Sprintf("expects six fields (seconds minutes hours day-of-month month day-of-week), got %d", len(fields))
		switch len(fields) {
		case 5:
			msg += `; a five-field Unix cron lacks the seconds: put "0 " in front`
		case 7:
			msg += "; NCRONTAB has no year field"
		}
		return errors.New(msg)
	}
	var sets [6]uint64
	for i, f := range cronFields {
		set, err := f.parse(fields[i])
		if err != nil {
			return err
		}
		sets[i] = set
	}
	if !daysMeetMonths(sets[3], sets[4]) {
		return fmt.Errorf("day-of-month field %q falls in no month of month field %q, so the timer would never fire", fields[3], fields[4])
	}
	return nil
}

// parse returns the values the field text selects, as bit v of the result for value v.
func (f cronField) parse(text string) (uint64, error) {
	var set uint64
	for _, item := range strings.Split(text, ",") {
		bits, tok, problem := f.item(item)
		if problem != "" {
			if tok == text {
				return 0, fmt.Errorf("%s field %q %s", f.name, text, problem)
			}
			return 0, fmt.Errorf("%s field %q: %q %s", f.name, text, tok, problem)
		}
		set |= bits
	}
	return set, nil
}

// item parses one list item. On failure it returns the offending token and what is wrong with it.
func (f cronField) item(item string) (set uint64, tok, problem string) {
	if item == "" {
		return 0, item, "is empty (a list item between commas)"
	}
	base, stepText, stepped := strings.Cut(item, "/")
	step := 1
	if stepped {
		n, err := strconv.Atoi(stepText)
		switch {
		case err != nil || strings.HasPrefix(stepText, "+"):
			return 0, item, fmt.Sprintf("has step %q, which is not a whole number", stepText)
		case n < 1:
			return 0, item, fmt.Sprintf("has step %d; a step is at least 1", n)
		}
		step = n
	}
	lo, hi := f.min, f.max
	switch a, b, isRange := strings.Cut(base, "-"); {
	case base == "*":
	case base == "?":
		return 0, base, "is Quartz syntax; NCRONTAB uses *"
	case isRange && a != "":
		var problem string
		if lo, problem = f.value(a); problem != "" {
			return 0, a, problem
		}
		if hi, problem = f.value(b); problem != "" {
			return 0, b, problem
		}
		if lo > hi {
			return 0, base, fmt.Sprintf("runs backwards, and the host would read it as %d-%d; for a range that wraps, list both parts (e.g. 22-23,0-2)", hi, lo)
		}
	default:
		var problem string
		if lo, problem = f.value(base); problem != "" {
			return 0, base, problem
		}
		if !stepped {
			hi = lo
		}
	}
	for v := lo; v <= hi; v += step {
		set |= 1 << v
	}
	return set, "", ""
}

// value parses one number or name.
func (f cronField) value(s string) (int, string) {
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		if strings.Trim(s, "0123456789") != "" {
			return 0, fmt.Sprintf("is not a number from %d to %d", f.min, f.max)
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < f.min || n > f.max {
			return 0, fmt.Sprintf("out of range %d-%d%s", f.min, f.max, f.hint)
		}
		return n, ""
	}
	if f.names == nil {
		return 0, fmt.Sprintf("is not a number from %d to %d", f.min, f.max)
	}
	lower := strings.ToLower(s)
	for i, name := range f.names {
		if len(lower) >= 3 && strings.HasPrefix(name, lower) {
			return f.min + i, ""
		}
	}
	return 0, fmt.Sprintf("is not a %s: expects %d-%d or a name such as %s-%s (three letters or more)",
		f.name, f.min, f.max, strings.ToUpper(f.names[0][:3]), strings.ToUpper(f.names[len(f.names)-1][:3]))
}

// daysMeetMonths reports whether some chosen day of the month exists in some chosen month
// (February counted with 29 days: a leap day fires, every four years).
func daysMeetMonths(days, months uint64) bool {
	length := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for m := 1; m <= 12; m++ {
		inMonth := uint64(1)<<(length[m]+1) - 2 // bits 1 to length[m]
		if months&(1<<m) != 0 && days&inMonth != 0 {
			return true
		}
	}
	return false
}
