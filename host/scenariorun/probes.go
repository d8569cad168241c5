package scenariorun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mockforge/mockforged/host/scenario"
	"github.com/mockforge/mockforged/host/scenariostore"
)

// maxProbeBody bounds how much of an HTTP probe's body is read.
const maxProbeBody = 1 << 20

// defaultProbeTimeout bounds a probe that sets no timeout, together with
// its interval.
const defaultProbeTimeout = 5 * time.Second

// probeValue is one measurement of a probe.
type probeValue struct {
	probe  string
	metric string
	value  float64
	at     time.Time
}

// startProbes starts one goroutine per probe; they end with ctx.
func (e *execution) startProbes(ctx context.Context, wg *sync.WaitGroup, values chan<- probeValue) {
	for i := range e.def.Probes {
		p := &e.def.Probes[i]
		name := p.Name
		if name == "" {
			name = fmt.Sprintf("probes/%d", i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.runProbe(ctx, name, p, values)
		}()
	}
}

func (e *execution) runProbe(ctx context.Context, name string, p *scenario.Probe, values chan<- probeValue) {
	timeout := p.Timeout.D()
	if timeout <= 0 {
		timeout = min(p.Interval.D(), defaultProbeTimeout)
	}
	ticker := time.NewTicker(p.Interval.D())
	defer ticker.Stop()
	for {
		v, err := e.measure(ctx, p, timeout)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			e.record(scenariostore.Event{Type: scenariostore.EventProbeFailed, Probe: name, Metric: p.Metric, Error: err.Error()})
		} else {
			select {
			case values <- probeValue{probe: name, metric: p.Metric, value: v, at: e.o.probeTimes.Next()}:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ticker.C:
		case <-ctx.Done():
			return
		}
	}
}

func (e *execution) measure(ctx context.Context, p *scenario.Probe, timeout time.Duration) (float64, error) {
	if p.HTTP != nil {
		return e.o.measureHTTP(ctx, p.HTTP, timeout)
	}
	begin := time.Now()
	out := e.o.call(ctx, e, p.Plugin.Plugin, p.Plugin.Parameters, timeout, true)
	switch p.Plugin.Value {
	case "", "duration_ms":
		if !out.success {
			return 0, fmt.Errorf("probe call to %s failed: %s", p.Plugin.Plugin, out.reason())
		}
		return float64(time.Since(begin).Microseconds()) / 1000, nil
	case "success":
		if out.success {
			return 1, nil
		}
		return 0, nil
	default:
		if !out.success {
			return 0, fmt.Errorf("probe call to %s failed: %s", p.Plugin.Plugin, out.reason())
		}
		return numberAt(out.data, p.Plugin.Value)
	}
}

func (o *Orchestrator) measureHTTP(ctx context.Context, p *scenario.HTTPProbe, timeout time.Duration) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	if err != nil {
		return 0, fmt.Errorf("invalid probe URL %q: %w", p.URL, err)
	}
	begin := time.Now()
	resp, err := o.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", p.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	latency := float64(time.Since(begin).Microseconds()) / 1000
	if err != nil {
		return 0, fmt.Errorf("GET %s: read body: %w", p.URL, err)
	}
	switch p.Value {
	case "", "latency_ms":
		return latency, nil
	case "status_code":
		return float64(resp.StatusCode), nil
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %s", p.URL, resp.Status)
	}
	if p.Value == "body" {
		v, err := strconv.ParseFloat(strings.TrimSpace(string(body)), 64)
		if err != nil {
			return 0, fmt.Errorf("GET %s: body %.40q is not a number", p.URL, body)
		}
		return v, nil
	}
	return numberAt(body, p.Value)
}

// numberAt returns the number at JSON pointer ptr in doc.
func numberAt(doc []byte, ptr string) (float64, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return 0, fmt.Errorf("value %s: the response is not JSON: %w", ptr, err)
	}
	for _, token := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		token = strings.ReplaceAll(strings.ReplaceAll(token, "~1", "/"), "~0", "~")
		switch node := v.(type) {
		case map[string]any:
			v = node[token]
		case []any:
			i, err := strconv.Atoi(token)
			if err != nil || i < 0 || i >= len(node) {
				return 0, fmt.Errorf("value %s: no element %q", ptr, token)
			}
			v = node[i]
		default:
			return 0, fmt.Errorf("value %s: no field %q", ptr, token)
		}
	}
	switch n := v.(type) {
	case float64:
		return n, nil
	case bool:
		if n {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("value %s is %v, not a number", ptr, v)
}

// errProbeURL is returned for a URL that probes may not reach.
var errProbeURL = errors.New("probes may GET only loopback addresses and the URL prefixes of the daemon's --probe-allow flags")

// ProbeURLAllowed reports whether an HTTP probe may GET rawURL: a loopback
// address or "localhost", or a URL under one of prefixes. A URL is under a
// prefix when its scheme, host and port are the prefix's and its path
// starts with the prefix's path at a "/" boundary, so the prefix
// "http://metrics.internal" admits neither "http://metrics.internal.example"
// nor "http://metrics.internal@example". A path with "." or ".." segments
// is under no prefix. Invalid prefixes admit nothing;
// CheckProbePrefix reports them.
func ProbeURLAllowed(rawURL string, prefixes []string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	if u.User != nil {
		return false
	}
	for _, p := range prefixes {
		if under(u, p) {
			return true
		}
	}
	return false
}

// under reports whether u is under the URL prefix.
func under(u *url.URL, prefix string) bool {
	p, err := parseProbePrefix(prefix)
	if err != nil {
		return false
	}
	if !strings.EqualFold(u.Scheme, p.Scheme) || !strings.EqualFold(u.Hostname(), p.Hostname()) || portOf(u) != portOf(p) {
		return false
	}
	for _, segment := range strings.Split(u.Path, "/") {
		if segment == "." || segment == ".." {
			// The server may resolve them to a path outside the prefix.
			return false
		}
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	base := strings.TrimSuffix(p.EscapedPath(), "/")
	return path == base || strings.HasPrefix(path, base+"/")
}

// portOf returns u's port, or the default port of its scheme.
func portOf(u *url.URL) string {
	if port := u.Port(); port != "" {
		return port
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// CheckProbePrefix returns an error unless prefix is a URL prefix that
// HTTP probes may be allowed: an http or https URL with a host, and
// without user information, query or fragment.
func CheckProbePrefix(prefix string) error {
	_, err := parseProbePrefix(prefix)
	return err
}

func parseProbePrefix(prefix string) (*url.URL, error) {
	u, err := url.Parse(prefix)
	switch {
	case err != nil:
		return nil, fmt.Errorf("invalid probe URL prefix %q: %w", prefix, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("invalid probe URL prefix %q: it must start with http:// or https://, such as http://metrics.internal:9090/", prefix)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("invalid probe URL prefix %q: it has no host; give one, such as http://metrics.internal:9090/", prefix)
	case u.User != nil:
		return nil, fmt.Errorf("invalid probe URL prefix %q: remove the user information before '@'", prefix)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("invalid probe URL prefix %q: remove the query and fragment; a prefix matches scheme, host, port and path", prefix)
	}
	return u, nil
}

// newProbeClient returns the HTTP client of probes, which refuses URLs
// that ProbeURLAllowed rejects, redirects included.
func newProbeClient(prefixes []string) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	return &http.Client{
		Transport: allowListTransport{next: transport, prefixes: prefixes},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			return nil
		},
	}
}

type allowListTransport struct {
	next     http.RoundTripper
	prefixes []string
}

func (t allowListTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !ProbeURLAllowed(req.URL.String(), t.prefixes) {
		return nil, fmt.Errorf("%s: %w", req.URL.Redacted(), errProbeURL)
	}
	return t.next.RoundTrip(req)
}
