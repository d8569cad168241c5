package scenariorun

import (
	"strings"
	"testing"
)

func TestProbeURLAllowed(t *testing.T) {
	prefixes := []string{"http://metrics.internal:9090/api/", "https://status.example.com"}
	tests := []struct {
		name string
		url  string
		want bool
	}{
		{"loopback IPv4", "http://127.0.0.1:8080/health", true},
		{"loopback IPv4 range", "http://127.1.2.3/", true},
		{"loopback IPv6", "http://[::1]:9000/", true},
		{"localhost", "https://LOCALHOST/x", true},
		{"loopback without prefixes", "http://127.0.0.1/", true},
		{"under prefix", "http://metrics.internal:9090/api/v1/query", true},
		{"prefix path itself", "http://metrics.internal:9090/api", true},
		{"prefix without path", "https://status.example.com/health", true},
		{"prefix without path, default port", "https://status.example.com:443/", true},
		{"other path", "http://metrics.internal:9090/admin", false},
		{"path sharing a prefix", "http://metrics.internal:9090/apix", false},
		{"dot dot out of the prefix", "http://metrics.internal:9090/api/../admin", false},
		{"escaped dot dot", "http://metrics.internal:9090/api/%2e%2e/admin", false},
		{"other port", "http://metrics.internal:9091/api/x", false},
		{"other scheme", "http://status.example.com/health", false},
		{"host sharing a prefix", "https://status.example.com.evil.test/", false},
		{"user information", "https://status.example.com@evil.test/", false},
		{"user information on allowed host", "https://user@status.example.com/", false},
		{"other host", "http://10.0.0.1/", false},
		{"metadata address", "http://169.254.169.254/latest/meta-data", false},
		{"not http", "file:///etc/passwd", false},
		{"no host", "http:///path", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ProbeURLAllowed(tt.url, prefixes); got != tt.want {
				t.Errorf("ProbeURLAllowed(%q) = %v, want %v", tt.url, got, tt.want)
			}
		})
	}
}

func TestCheckProbePrefix(t *testing.T) {
	tests := []struct {
		prefix  string
		wantErr string
	}{
		{"http://metrics.internal:9090/", ""},
		{"https://status.example.com", ""},
		{"metrics.internal:9090", "must start with http:// or https://"},
		{"ftp://files.example.com/", "must start with http:// or https://"},
		{"http://", "has no host"},
		{"http://user:secret@example.com/", "user information"},
		{"http://example.com/?a=1", "query and fragment"},
		{"http://example.com/#top", "query and fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			err := CheckProbePrefix(tt.prefix)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckProbePrefix: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckProbePrefix = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	if ProbeURLAllowed("http://example.com/?a=1", []string{"http://example.com/?a=1"}) {
		t.Error("an invalid prefix admitted a URL")
	}
}
