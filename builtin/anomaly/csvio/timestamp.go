package csvio

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// zonelessLayouts are the accepted timestamp layouts without a time zone;
// their timestamps are taken as UTC. Fractional seconds are accepted by
// time.Parse after the seconds field even though the layouts omit them.
var zonelessLayouts = []string{
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
}

// ParseTimestamp parses an RFC 3339 timestamp, a "2006-01-02 15:04:05"
// timestamp (optionally with fractional seconds, taken as UTC) or a Unix time
// in seconds (optionally fractional).
func ParseTimestamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing timestamp")
	}
	if isUnixSeconds(s) {
		return parseUnixSeconds(s)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range zonelessLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New(
		"invalid timestamp: use RFC 3339 (2006-01-02T15:04:05Z), \"2006-01-02 15:04:05\" (UTC) or Unix seconds")
}

func isUnixSeconds(s string) bool {
	digits := 0
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' || (c == '-' && i == 0):
		default:
			return false
		}
	}
	return digits > 0
}

func parseUnixSeconds(s string) (time.Time, error) {
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) || math.Abs(secs) > 1e11 {
		return time.Time{}, errors.New("invalid timestamp: Unix seconds must be a number within ±1e11")
	}
	whole, frac := math.Modf(secs)
	return time.Unix(int64(whole), int64(math.Round(frac*1e9))).UTC(), nil
}

// parseFloat parses a decimal number; it rejects hexadecimal and the
// underscores that strconv accepts in some forms.
func parseFloat(s string) (float64, error) {
	if strings.ContainsAny(s, "_xXpP") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(s, 64)
}
