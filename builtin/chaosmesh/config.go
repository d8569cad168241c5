package chaosmesh

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

//go:embed schema.json
var configSchema []byte

// Defaults of the config.
const (
	defaultDuration       = 60 * time.Second
	defaultRequestTimeout = 30 * time.Second
)

// Config is the plugin's config, a JSON object matching schema.json.
type Config struct {
	// Kubeconfig is the path of a kubeconfig file. Empty means client-go's
	// default loading rules: the KUBECONFIG path list, else ~/.kube/config,
	// else the in-cluster service account.
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// Context is the kubeconfig context; empty means the current context.
	Context string `json:"context,omitempty"`
	// Namespace is the namespace of experiments whose call names none.
	// Empty means the context's namespace, else "default".
	Namespace string `json:"namespace,omitempty"`
	// DefaultDuration is the duration of experiments whose call sets none;
	// empty means 60s.
	DefaultDuration string `json:"default_duration,omitempty"`
	// RequestTimeout bounds each request to the API server; empty means 30s.
	RequestTimeout string `json:"request_timeout,omitempty"`
}

// settings is a parsed config.
type settings struct {
	cfg             Config
	defaultDuration time.Duration
	requestTimeout  time.Duration
}

// parseConfig decodes and checks a config. It rejects unknown fields and
// durations that do not parse; it does not read the kubeconfig.
func parseConfig(raw json.RawMessage) (settings, error) {
	var cfg Config
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return settings{}, fmt.Errorf("invalid config: %w", err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return settings{}, errors.New("invalid config: unexpected data after the JSON object")
		}
	}
	s := settings{cfg: cfg, defaultDuration: defaultDuration, requestTimeout: defaultRequestTimeout}
	var err error
	if cfg.DefaultDuration != "" {
		if s.defaultDuration, err = parsePositiveDuration("default_duration", cfg.DefaultDuration); err != nil {
			return settings{}, fmt.Errorf("invalid config: %w", err)
		}
	}
	if cfg.RequestTimeout != "" {
		if s.requestTimeout, err = parsePositiveDuration("request_timeout", cfg.RequestTimeout); err != nil {
			return settings{}, fmt.Errorf("invalid config: %w", err)
		}
	}
	return s, nil
}

func parsePositiveDuration(name, value string) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid %s %q: use a positive Go duration such as 30s or 5m", name, value)
	}
	return d, nil
}

// clientConfig returns client-go's loader for the config's kubeconfig and
// context. It reads nothing until it is used.
func (s settings) clientConfig() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if s.cfg.Kubeconfig != "" {
		rules.ExplicitPath = s.cfg.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: s.cfg.Context}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
}

// restConfig loads the connection settings: from the kubeconfig when one is
// found, else from the in-cluster service account. It also returns the
// namespace that experiments use by default.
func (s settings) restConfig() (*rest.Config, string, error) {
	loader := s.clientConfig()
	cfg, err := loader.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, "", fmt.Errorf("no Kubernetes connection configured: set kubeconfig in the plugin config, set KUBECONFIG for the daemon, create ~/.kube/config, or run the daemon in a pod with a service account")
		}
		return nil, "", fmt.Errorf("load Kubernetes client config: %w", err)
	}
	namespace := s.cfg.Namespace
	if namespace == "" {
		if ns, _, err := loader.Namespace(); err == nil && ns != "" {
			namespace = ns
		} else {
			namespace = "default"
		}
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = s.requestTimeout
	cfg.UserAgent = "mockforged-chaos-mesh/" + Version
	return cfg, namespace, nil
}

// defaultNamespace returns the namespace of experiments whose call names
// none, without connecting.
func (s settings) defaultNamespace() string {
	if s.cfg.Namespace != "" {
		return s.cfg.Namespace
	}
	if ns, _, err := s.clientConfig().Namespace(); err == nil && ns != "" {
		return ns
	}
	return "default"
}
