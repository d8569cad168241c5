package dbfault

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
)

//go:embed schema.json
var configSchema []byte

// Protocol is the wire protocol a proxy speaks to clients and its upstream.
type Protocol string

// Protocols a proxy can speak.
const (
	// ProtocolPostgres reads the PostgreSQL frontend/backend protocol 3.
	ProtocolPostgres Protocol = "postgres"
	// ProtocolMySQL reads the MySQL client/server protocol (MySQL, MariaDB).
	ProtocolMySQL Protocol = "mysql"
	// ProtocolTCP forwards bytes without reading them.
	ProtocolTCP Protocol = "tcp"
)

// TLSMode is the action a proxy takes when a client requests TLS.
type TLSMode string

// TLS modes.
const (
	// TLSRefuse replies "not supported" to a client's TLS request, so that
	// the session stays in plain text and query faults apply.
	TLSRefuse TLSMode = "refuse"
	// TLSPassthrough lets client and server negotiate TLS through the proxy.
	// Once they do, only byte-level and connection faults apply.
	TLSPassthrough TLSMode = "passthrough"
)

// defaultListen is used when a proxy's listen address is empty.
const defaultListen = "127.0.0.1:0"

var proxyNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// Config is the plugin's config, a JSON object matching schema.json.
type Config struct {
	// Proxies to run; names and listen addresses are unique.
	Proxies []ProxyConfig `json:"proxies"`
}

// ProxyConfig declares one fault proxy.
type ProxyConfig struct {
	// Name identifies the proxy in faults and listings.
	Name string `json:"name"`
	// Listen is the host:port to accept connections on. An empty host
	// means 127.0.0.1 (not every interface), port 0 picks a free port, and
	// an empty Listen means "127.0.0.1:0".
	Listen string `json:"listen,omitempty"`
	// Upstream is the database server's host:port.
	Upstream string `json:"upstream"`
	// Protocol is postgres, mysql or tcp.
	Protocol Protocol `json:"protocol"`
	// TLS is refuse (the default when empty) or passthrough.
	TLS TLSMode `json:"tls,omitempty"`
	// Enabled turns accepting connections on or off; nil means true.
	Enabled *bool `json:"enabled,omitempty"`
}

// isEnabled reports whether the proxy accepts connections.
func (c ProxyConfig) isEnabled() bool {
	return c.Enabled == nil || *c.Enabled
}

// parseConfig decodes and validates a config. It rejects unknown fields so
// that a misspelled key is an error rather than a silent default.
func parseConfig(raw json.RawMessage) (Config, error) {
	var cfg Config
	if len(bytes.TrimSpace(raw)) == 0 {
		return cfg, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("invalid config: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, errors.New("invalid config: unexpected data after the JSON object")
	}
	for i := range cfg.Proxies {
		normalizeProxy(&cfg.Proxies[i])
	}
	if err := cfg.validate(); err != nil {
		return Config{}, fmt.Errorf("invalid config: %w", err)
	}
	return cfg, nil
}

// normalizeProxy fills defaults so that two configs that mean the same
// compare equal.
func normalizeProxy(p *ProxyConfig) {
	if p.Listen == "" {
		p.Listen = defaultListen
	}
	if host, port, err := net.SplitHostPort(p.Listen); err == nil && host == "" {
		p.Listen = net.JoinHostPort("127.0.0.1", port)
	}
	if p.TLS == "" {
		p.TLS = TLSRefuse
	}
}

func (c Config) validate() error {
	names := make(map[string]bool, len(c.Proxies))
	listens := make(map[string]string, len(c.Proxies))
	for i, p := range c.Proxies {
		if err := p.validate(); err != nil {
			return fmt.Errorf("proxies[%d]: %w", i, err)
		}
		if names[p.Name] {
			return fmt.Errorf("proxies[%d]: duplicate proxy name %q; give each proxy its own name", i, p.Name)
		}
		names[p.Name] = true
		if _, port, _ := net.SplitHostPort(p.Listen); port == "0" {
			continue
		}
		if other, ok := listens[p.Listen]; ok {
			return fmt.Errorf("proxies[%d]: proxy %q listens on %s like proxy %q; give each proxy its own listen address", i, p.Name, p.Listen, other)
		}
		listens[p.Listen] = p.Name
	}
	return nil
}

func (p ProxyConfig) validate() error {
	if !proxyNamePattern.MatchString(p.Name) {
		return fmt.Errorf("invalid proxy name %q: use 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", p.Name)
	}
	if err := validateHostPort(p.Listen); err != nil {
		return fmt.Errorf("proxy %q: invalid listen address %q: %w", p.Name, p.Listen, err)
	}
	if p.Upstream == "" {
		return fmt.Errorf("proxy %q: missing upstream: set it to the database's host:port, such as 127.0.0.1:5432", p.Name)
	}
	if err := validateHostPort(p.Upstream); err != nil {
		return fmt.Errorf("proxy %q: invalid upstream address %q: %w", p.Name, p.Upstream, err)
	}
	if _, port, _ := net.SplitHostPort(p.Upstream); port == "0" {
		return fmt.Errorf("proxy %q: invalid upstream address %q: port 0 cannot be dialled", p.Name, p.Upstream)
	}
	switch p.Protocol {
	case ProtocolPostgres, ProtocolMySQL, ProtocolTCP:
	default:
		return fmt.Errorf("proxy %q: invalid protocol %q: use postgres, mysql or tcp", p.Name, p.Protocol)
	}
	switch p.TLS {
	case TLSRefuse, TLSPassthrough:
	default:
		return fmt.Errorf("proxy %q: invalid tls mode %q: use refuse or passthrough", p.Name, p.TLS)
	}
	return nil
}

// validateHostPort checks a host:port address with a numeric port.
func validateHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("use host:port: %w", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}
