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

// MinTimestamp and MaxTimestamp bound the accepted timestamps. The lower
// bound is the Unix epoch, because a negative Unix time is almost always a
// mistake, and the upper bound is the last instant that RFC 3339 can write.
var (
	MinTimestamp = time.Unix(0, 0).UTC()
	MaxTimestamp = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// maxUnixSeconds is MaxTimestamp in whole Unix seconds.
const maxUnixSeconds = 253402300799

// ParseTimestamp parses an RFC 3339 timestamp, a "2006-01-02 15:04:05"
// timestamp (optionally with fractional seconds, taken as UTC) or a Unix time
// in seconds (optionally fractional). It rejects timestamps outside
// MinTimestamp to MaxTimestamp.
func ParseTimestamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing timestamp")
	}
	if isUnixSeconds(s) {
		return parseUnixSeconds(s)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, checkTimestampRange(t)
	}
	for _, layout := range zonelessLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, checkTimestampRange(t)
		}
	}
	return time.Time{}, errors.New(
		"invalid timestamp: use RFC 3339 (2006-01-02T15:04:05Z), \"2006-01-02 15:04:05\" (UTC) or Unix seconds")
}

// checkTimestampRange rejects a time before MinTimestamp or after
// MaxTimestamp.
func checkTimestampRange(t time.Time) error {
	if t.Before(MinTimestamp) || t.After(MaxTimestamp) {
		return errors.New("invalid timestamp: use a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z")
	}
	return nil
}

// UnixSeconds converts a Unix time in seconds, optionally fractional, to a
// time in UTC. It accepts 0 (1970-01-01T00:00:00Z) to 253402300799
// (9999-12-31T23:59:59Z), and rejects negative, larger and non-finite
// values.
func UnixSeconds(secs float64) (time.Time, error) {
	if math.IsNaN(secs) || math.IsInf(secs, 0) || secs < 0 || secs > maxUnixSeconds {
		return time.Time{}, errors.New("invalid timestamp: Unix seconds must be from 0 (1970-01-01T00:00:00Z) " +
			"to 253402300799 (9999-12-31T23:59:59Z), and a time in milliseconds must be divided by 1000")
	}
	whole, frac := math.Modf(secs)
	return time.Unix(int64(whole), int64(math.Round(frac*1e9))).UTC(), nil
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
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return time.Time{}, errors.New("invalid timestamp: Unix seconds must be a number such as 1767600000")
	}
	return UnixSeconds(secs)
}

// parseFloat parses a decimal number; it rejects hexadecimal and the
// underscores that strconv accepts in some forms.
func parseFloat(s string) (float64, error) {
	if strings.ContainsAny(s, "_xXpP") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(s, 64)
}
