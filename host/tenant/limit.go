package tenant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// unlimitedWord is how an unlimited quota is written in JSON, YAML and on
// the command line.
const unlimitedWord = "unlimited"

// Limit is a quota on a count or a number of bytes: a maximum, or no maximum
// at all. The zero Limit is a maximum of 0, which allows nothing. In JSON and
// YAML a Limit is a non-negative integer or the string "unlimited".
type Limit struct {
	max       int64
	unlimited bool
}

// LimitOf returns the Limit whose maximum is n. It panics when n is
// negative, which is a programming error.
func LimitOf(n int64) Limit {
	if n < 0 {
		panic(fmt.Sprintf("tenant: negative limit %d", n))
	}
	return Limit{max: n}
}

// Unlimited returns the Limit without a maximum.
func Unlimited() Limit {
	return Limit{unlimited: true}
}

// IsUnlimited reports whether l has no maximum.
func (l Limit) IsUnlimited() bool { return l.unlimited }

// Max returns the maximum, or 0 when l is unlimited.
func (l Limit) Max() int64 { return l.max }

// Allows reports whether a usage of n stays within l.
func (l Limit) Allows(n int64) bool { return l.unlimited || n <= l.max }

// String returns the maximum in decimal, or "unlimited".
func (l Limit) String() string {
	if l.unlimited {
		return unlimitedWord
	}
	return strconv.FormatInt(l.max, 10)
}

// ParseLimit parses a non-negative integer or "unlimited".
func ParseLimit(s string) (Limit, error) {
	if s == unlimitedWord {
		return Unlimited(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return Limit{}, fmt.Errorf("invalid limit %q: use a non-negative integer or %q", s, unlimitedWord)
	}
	return LimitOf(n), nil
}

// byteUnits are the suffixes ParseByteLimit accepts, longest first so that
// "MiB" is tried before "B".
var byteUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// ParseByteLimit parses a byte count such as "500MB", "5GiB" or "1024", or
// "unlimited". KB, MB, GB and TB are decimal units; KiB, MiB, GiB and TiB
// are binary ones.
func ParseByteLimit(s string) (Limit, error) {
	if s == unlimitedWord {
		return Unlimited(), nil
	}
	number, factor := s, int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			number, factor = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil || n < 0 || n > (1<<63-1)/factor {
		return Limit{}, fmt.Errorf("invalid byte limit %q: use a non-negative integer with an optional unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB) or %q", s, unlimitedWord)
	}
	return LimitOf(n * factor), nil
}

// MarshalJSON writes the maximum as a number, or the string "unlimited".
func (l Limit) MarshalJSON() ([]byte, error) {
	if l.unlimited {
		return json.Marshal(unlimitedWord)
	}
	return []byte(strconv.FormatInt(l.max, 10)), nil
}

// UnmarshalJSON reads a non-negative integer or the string "unlimited".
func (l *Limit) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		if s != unlimitedWord {
			return fmt.Errorf("invalid limit %q: use a non-negative integer or %q", s, unlimitedWord)
		}
		*l = Unlimited()
		return nil
	}
	n, err := strconv.ParseInt(string(data), 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("invalid limit %s: use a non-negative integer or %q", data, unlimitedWord)
	}
	*l = LimitOf(n)
	return nil
}

// DurationLimit is a quota on a length of time: a maximum, or no maximum at
// all. The zero DurationLimit is a maximum of 0, which allows nothing. In
// JSON and YAML it is a Go duration string such as "10m" or "4h", or the
// string "unlimited".
type DurationLimit struct {
	max       time.Duration
	unlimited bool
}

// DurationLimitOf returns the DurationLimit whose maximum is d. It panics
// when d is negative, which is a programming error.
func DurationLimitOf(d time.Duration) DurationLimit {
	if d < 0 {
		panic(fmt.Sprintf("tenant: negative duration limit %s", d))
	}
	return DurationLimit{max: d}
}

// UnlimitedDuration returns the DurationLimit without a maximum.
func UnlimitedDuration() DurationLimit {
	return DurationLimit{unlimited: true}
}

// IsUnlimited reports whether l has no maximum.
func (l DurationLimit) IsUnlimited() bool { return l.unlimited }

// Max returns the maximum, or 0 when l is unlimited.
func (l DurationLimit) Max() time.Duration { return l.max }

// Allows reports whether a duration of d stays within l.
func (l DurationLimit) Allows(d time.Duration) bool { return l.unlimited || d <= l.max }

// String returns the maximum as a Go duration, or "unlimited".
func (l DurationLimit) String() string {
	if l.unlimited {
		return unlimitedWord
	}
	return l.max.String()
}

// ParseDurationLimit parses a Go duration such as "90m" or "unlimited".
func ParseDurationLimit(s string) (DurationLimit, error) {
	if s == unlimitedWord {
		return UnlimitedDuration(), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return DurationLimit{}, fmt.Errorf("invalid duration limit %q: use a non-negative duration such as \"30m\" or \"4h\", or %q", s, unlimitedWord)
	}
	return DurationLimitOf(d), nil
}

// MarshalJSON writes the maximum as a Go duration string, or "unlimited".
func (l DurationLimit) MarshalJSON() ([]byte, error) {
	return json.Marshal(l.String())
}

// UnmarshalJSON reads a Go duration string or the string "unlimited".
func (l *DurationLimit) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("invalid duration limit %s: use a string such as \"30m\" or \"4h\", or %q", data, unlimitedWord)
	}
	parsed, err := ParseDurationLimit(s)
	if err != nil {
		return err
	}
	*l = parsed
	return nil
}
