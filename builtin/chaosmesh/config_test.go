package chaosmesh

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var getOptions = metav1.GetOptions{}

func containsString(s, sub string) bool { return strings.Contains(s, sub) }

func TestParseConfig(t *testing.T) {
	cases := []struct {
		name            string
		raw             string
		wantErr         string
		duration, reqTO time.Duration
	}{
		{name: "empty", raw: "", duration: time.Minute, reqTO: 30 * time.Second},
		{name: "empty object", raw: "{}", duration: time.Minute, reqTO: 30 * time.Second},
		{name: "durations", raw: `{"default_duration": "2m", "request_timeout": "5s"}`, duration: 2 * time.Minute, reqTO: 5 * time.Second},
		{name: "unknown field", raw: `{"kubeconfg": "/x"}`, wantErr: `unknown field "kubeconfg"`},
		{name: "bad duration", raw: `{"default_duration": "soon"}`, wantErr: `invalid default_duration "soon"`},
		{name: "zero timeout", raw: `{"request_timeout": "0s"}`, wantErr: `invalid request_timeout "0s"`},
		{name: "negative duration", raw: `{"default_duration": "-1m"}`, wantErr: `invalid default_duration "-1m"`},
		{name: "trailing data", raw: `{} {}`, wantErr: "unexpected data after the JSON object"},
		{name: "not an object", raw: `[]`, wantErr: "invalid config"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseConfig([]byte(tc.raw))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseConfig(%s) error = %v, want one containing %q", tc.raw, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConfig(%s): %v", tc.raw, err)
			}
			if s.defaultDuration != tc.duration {
				t.Errorf("default duration = %s, want %s", s.defaultDuration, tc.duration)
			}
			if s.requestTimeout != tc.reqTO {
				t.Errorf("request timeout = %s, want %s", s.requestTimeout, tc.reqTO)
			}
		})
	}
}

const testKubeconfig = `apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://127.0.0.1:6443
  name: c
contexts:
- context:
    cluster: c
    user: u
    namespace: shop
  name: shop
- context:
    cluster: c
    user: u
  name: bare
current-context: shop
users:
- name: u
  user:
    token: t
`

func TestRestConfigFromKubeconfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, config, host, namespace, wantErr string
	}{
		{name: "current context", config: `{"kubeconfig": %q, "request_timeout": "7s"}`, host: "https://127.0.0.1:6443", namespace: "shop"},
		{name: "context without namespace", config: `{"kubeconfig": %q, "context": "bare"}`, namespace: "default"},
		{name: "config namespace wins", config: `{"kubeconfig": %q, "namespace": "ops"}`, namespace: "ops"},
		{name: "missing context", config: `{"kubeconfig": %q, "context": "nope"}`, wantErr: "nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseConfig([]byte(strings.Replace(tc.config, "%q", `"`+path+`"`, 1)))
			if err != nil {
				t.Fatal(err)
			}
			cfg, ns, err := s.restConfig()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("restConfig error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("restConfig: %v", err)
			}
			if ns != tc.namespace {
				t.Errorf("namespace = %q, want %q", ns, tc.namespace)
			}
			if tc.host != "" && cfg.Host != tc.host {
				t.Errorf("host = %q, want %q", cfg.Host, tc.host)
			}
			if !strings.HasPrefix(cfg.UserAgent, "mockforged-chaos-mesh/") {
				t.Errorf("user agent = %q, want the plugin's", cfg.UserAgent)
			}
			if got := s.defaultNamespace(); got != tc.namespace {
				t.Errorf("defaultNamespace = %q, want %q", got, tc.namespace)
			}
		})
	}
}

func TestValidateConfigMissingKubeconfig(t *testing.T) {
	p := NewPlugin()
	missing := filepath.Join(t.TempDir(), "nope")
	err := p.ValidateConfig(t.Context(), []byte(`{"kubeconfig": "`+missing+`"}`))
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("ValidateConfig of a missing kubeconfig = %v, want an error naming %s", err, missing)
	}
}
