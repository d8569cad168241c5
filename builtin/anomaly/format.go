package anomaly

import (
	"fmt"
	"strconv"
)

// countOf formats n with the singular or plural noun that follows it.
func countOf[N ~int | ~int64](n N, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return fmt.Sprintf("%d %s", n, plural)
}

// formatNumber formats a value for a message with at most 6 significant
// digits, as the detector's anomaly messages do.
func formatNumber(v float64) string {
	return strconv.FormatFloat(v, 'g', 6, 64)
}
