package hooks

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// appendAuditLine appends rec as one JSON line to b. The output is
// byte-for-byte what json.Marshal(rec) returns followed by a newline: the
// same field order, omitempty rules, escaping of strings (HTML-safe, with
// invalid UTF-8 replaced by U+FFFD) and number format. It replaces
// json.Marshal, which uses reflection and allocates a new line, because the
// audit hook runs on every plugin call.
func appendAuditLine(b []byte, rec *AuditRecord) ([]byte, error) {
	b = append(b, `{"time":"`...)
	b, err := rec.Time.AppendText(b)
	if err != nil {
		return nil, fmt.Errorf("encode audit record time: %w", err)
	}

	b = append(b, `","request_id":`...)
	b = appendJSONString(b, rec.RequestID)
	b = append(b, `,"tenant":`...)
	b = appendJSONString(b, rec.Tenant)
	if rec.Scenario != "" {
		b = append(b, `,"scenario":`...)
		b = appendJSONString(b, rec.Scenario)
	}
	if rec.Execution != "" {
		b = append(b, `,"execution":`...)
		b = appendJSONString(b, rec.Execution)
	}

	b = append(b, `,"plugin_id":`...)
	b = appendJSONString(b, rec.PluginID)
	b = append(b, `,"plugin_version":`...)
	b = appendJSONString(b, rec.PluginVersion)
	b = append(b, `,"duration_ms":`...)
	b, err = appendJSONFloat(b, rec.DurationMS)
	if err != nil {
		return nil, err
	}

	b = append(b, `,"outcome":`...)
	b = appendJSONString(b, rec.Outcome)
	if rec.Error != "" {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, rec.Error)
	}
	return append(b, "}\n"...), nil
}

// appendJSONFloat appends f as encoding/json formats a float64: like
// strconv's shortest 'f' format, switching to 'e' below 1e-6 and from 1e21
// on, with exponents not padded to two digits.
func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("encode audit record: unsupported number %v", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Shorten an exponent such as e-07 to e-7.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string, escaped as
// encoding/json escapes strings by default: quote and backslash, control
// characters (\b, \f, \n, \r and \t by name, the others as \u00XX), the
// HTML characters <, > and &, U+2028 and U+2029. Each byte of invalid UTF-8
// becomes \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafeASCII(c) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendEscapedASCII(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonSafeASCII reports whether the ASCII byte c stays as it is in a JSON
// string.
func jsonSafeASCII(c byte) bool {
	return c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}

// appendEscapedASCII appends the escape sequence of the ASCII byte c.
func appendEscapedASCII(b []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
