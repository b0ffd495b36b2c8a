package config

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	day   = 24 * time.Hour
	week  = 7 * day
	month = 30 * day  // Backstage's HumanDuration conversion
	year  = 365 * day // objects and ISO; ms-style strings use 365.25 days
)

var msPattern = regexp.MustCompile(`(?i)^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$`)

var isoPattern = regexp.MustCompile(`^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

var durationObjectUnits = map[string]time.Duration{
	"years": year, "months": month, "weeks": week, "days": day,
	"hours": time.Hour, "minutes": time.Minute, "seconds": time.Second,
	"milliseconds": time.Millisecond,
}

// ParseDuration reads a duration in any of Backstage's three forms: an ms-style string
// ("1h", "2 days", "1.5 hours"), an ISO 8601 string ("PT8H", "P1D"), or an object
// ({hours: 8, minutes: 30}). Plain numbers and negative values are rejected.
func ParseDuration(v any) (time.Duration, error) {
	switch t := v.(type) {
	case string:
		s := strings.TrimSpace(t)
		if strings.HasPrefix(s, "P") {
			return parseISODuration(s)
		}
		m := msPattern.FindStringSubmatch(s)
		if m == nil || m[2] == "" {
			return 0, fmt.Errorf("invalid duration %q", t)
		}
		n, err := strconv.ParseFloat(m[1], 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid duration %q", t)
		}
		d, ok := scale(n, msUnit(strings.ToLower(m[2])))
		if !ok {
			return 0, fmt.Errorf("invalid duration %q: too long", t)
		}
		return d, nil
	case map[string]any:
		if len(t) == 0 {
			return 0, fmt.Errorf("invalid duration: object needs at least one of years, months, weeks, days, hours, minutes, seconds, milliseconds")
		}
		var total time.Duration
		seen := 0
		for _, k := range sortedKeys(t) {
			raw := t[k]
			unit, ok := durationObjectUnits[k]
			if !ok {
				return 0, fmt.Errorf("invalid duration: unknown unit %q", k)
			}
			if raw == nil { // an explicit null is absent, as everywhere in config
				continue
			}
			n, ok := toFloat(raw)
			if !ok || n < 0 {
				return 0, fmt.Errorf("invalid duration: %s must be a non-negative number", k)
			}
			d, ok := scale(n, unit)
			if !ok || total > math.MaxInt64-d {
				return 0, fmt.Errorf("invalid duration: too long")
			}
			total += d
			seen++
		}
		if seen == 0 {
			return 0, fmt.Errorf("invalid duration: object needs at least one of years, months, weeks, days, hours, minutes, seconds, milliseconds")
		}
		return total, nil
	default:
		return 0, fmt.Errorf("invalid duration: got %s; use a string such as \"1h\" or \"PT1H\", or an object such as {hours: 1}", describe(v))
	}
}

// scale multiplies n by unit, reporting false when the result does not fit a Duration
// (a float-to-int conversion out of range is undefined in Go, so check first).
func scale(n float64, unit time.Duration) (time.Duration, bool) {
	f := math.Round(n * float64(unit))
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f >= math.MaxInt64 {
		return 0, false
	}
	return time.Duration(f), true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func msUnit(u string) time.Duration {
	switch u {
	case "years", "year", "yrs", "yr", "y":
		return time.Duration(365.25 * float64(day))
	case "weeks", "week", "w":
		return week
	case "days", "day", "d":
		return day
	case "hours", "hour", "hrs", "hr", "h":
		return time.Hour
	case "minutes", "minute", "mins", "min", "m":
		return time.Minute
	case "seconds", "second", "secs", "sec", "s":
		return time.Second
	default:
		return time.Millisecond
	}
}

func parseISODuration(s string) (time.Duration, error) {
	m := isoPattern.FindStringSubmatch(s)
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	units := []time.Duration{year, month, week, day, time.Hour, time.Minute, time.Second}
	var total time.Duration
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		n, _ := strconv.ParseFloat(m[i+1], 64)
		d, ok := scale(n, u)
		if !ok || total > math.MaxInt64-d {
			return 0, fmt.Errorf("invalid duration %q: too long", s)
		}
		total += d
	}
	return total, nil
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
