package prommetrics

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

//go:embed schema.json
var configSchema []byte

// Defaults of the config.
const (
	// DefaultListen is the listener's address when the config names none.
	DefaultListen       = "127.0.0.1:9465"
	defaultMaxSeries    = 1000
	defaultPushJob      = "mockforged"
	defaultPushInterval = 15 * time.Second
	minPushInterval     = time.Second
)

// Config is the plugin's config, a JSON object matching schema.json.
type Config struct {
	// Listen is the host:port of the /metrics listener. nil means
	// DefaultListen, an empty string turns the listener off, and an empty
	// host means 127.0.0.1.
	Listen *string `json:"listen,omitempty"`
	// AllowNonLoopback permits a Listen host that is not a loopback
	// address.
	AllowNonLoopback bool `json:"allow_non_loopback,omitempty"`
	// MaxSeriesPerTenant bounds each tenant's series; 0 means 1000.
	MaxSeriesPerTenant int `json:"max_series_per_tenant,omitempty"`
	// Pushgateway, when set, pushes every metric to a Pushgateway.
	Pushgateway *PushConfig `json:"pushgateway,omitempty"`
}

// PushConfig configures pushing to a Prometheus Pushgateway.
type PushConfig struct {
	// URL is the Pushgateway's base URL, such as http://127.0.0.1:9091.
	URL string `json:"url"`
	// Job is the pushed group's job name; empty means "mockforged".
	Job string `json:"job,omitempty"`
	// Interval is a Go duration between pushes; empty means 15s.
	Interval string `json:"interval,omitempty"`
	// Grouping adds labels to the group's key.
	Grouping map[string]string `json:"grouping,omitempty"`
}

// settings is a validated config with its defaults filled in.
type settings struct {
	// listen is empty when the listener is off.
	listen string
	// listenExplicit is true when the config named the address, so a
	// failure to listen on it fails the config.
	listenExplicit bool
	maxSeries      int
	push           *pushSettings
}

type pushSettings struct {
	url      string
	job      string
	interval time.Duration
	grouping map[string]string
}

// parseConfig decodes and validates a config. It rejects unknown fields so
// that a misspelled key is an error rather than a silent default.
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

	out := settings{listen: DefaultListen, maxSeries: defaultMaxSeries}
	if cfg.Listen != nil {
		out.listen, out.listenExplicit = *cfg.Listen, true
	}
	if out.listen != "" {
		addr, err := checkListen(out.listen, cfg.AllowNonLoopback)
		if err != nil {
			return settings{}, err
		}
		out.listen = addr
	}
	switch {
	case cfg.MaxSeriesPerTenant < 0:
		return settings{}, fmt.Errorf("invalid config: max_series_per_tenant %d is negative; use 1 or more", cfg.MaxSeriesPerTenant)
	case cfg.MaxSeriesPerTenant > 0:
		out.maxSeries = cfg.MaxSeriesPerTenant
	}
	if cfg.Pushgateway != nil {
		push, err := checkPush(*cfg.Pushgateway)
		if err != nil {
			return settings{}, err
		}
		out.push = &push
	}
	return out, nil
}

// checkListen returns addr with an empty host replaced by 127.0.0.1. It
// rejects a host that is not a loopback address unless allowed.
func checkListen(addr string, allowNonLoopback bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("invalid config: listen %q is not host:port: %w; use an address such as %s", addr, err, DefaultListen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("invalid config: listen %q has an invalid port %q; use 0 to 65535", addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if !allowNonLoopback && !isLoopback(host) {
		return "", fmt.Errorf("invalid config: listen %q is not a loopback address, and the metrics endpoint has no authentication; listen on 127.0.0.1 or ::1, or set \"allow_non_loopback\": true to expose it", addr)
	}
	return net.JoinHostPort(host, port), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkPush(cfg PushConfig) (pushSettings, error) {
	// The parse error is not wrapped, because it repeats the URL with its
	// password.
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return pushSettings{}, errors.New("invalid config: pushgateway.url is not a valid URL; use one such as http://127.0.0.1:9091")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return pushSettings{}, fmt.Errorf("invalid config: pushgateway.url %q is not an http or https URL; use one such as http://127.0.0.1:9091", u.Redacted())
	}
	if strings.Contains(u.Path, "/metrics/job") {
		return pushSettings{}, fmt.Errorf("invalid config: pushgateway.url %q contains the push path; give the base URL only, and the job in pushgateway.job", u.Redacted())
	}
	out := pushSettings{url: cfg.URL, job: cfg.Job, interval: defaultPushInterval, grouping: cfg.Grouping}
	if out.job == "" {
		out.job = defaultPushJob
	}
	if cfg.Interval != "" {
		d, err := time.ParseDuration(cfg.Interval)
		if err != nil || d < minPushInterval {
			return pushSettings{}, fmt.Errorf("invalid config: pushgateway.interval %q is not a Go duration of at least %s, such as 15s", cfg.Interval, minPushInterval)
		}
		out.interval = d
	}
	for name := range cfg.Grouping {
		if err := checkLabelName(name); err != nil && name != "instance" {
			return pushSettings{}, fmt.Errorf("invalid config: pushgateway.grouping: %w", err)
		}
	}
	return out, nil
}

// redactURL hides the password of a URL for messages and logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
