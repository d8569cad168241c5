package dbfault

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(New().ConfigSchema()))
	if err != nil {
		t.Fatalf("parse schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("config.schema.json", doc); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	schema, err := c.Compile("config.schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return schema
}

func TestConfigValidation(t *testing.T) {
	schema := compileSchema(t)
	tests := []struct {
		name string
		json string
		// schemaOK is true when the JSON Schema accepts the config. The Go
		// validation must reject everything that the schema rejects.
		schemaOK bool
		// errText is empty for a valid config.
		errText string
	}{
		{name: "empty", json: `{}`, schemaOK: true},
		{name: "full proxy", json: `{"proxies":[{"name":"pg","listen":"127.0.0.1:15432","upstream":"127.0.0.1:5432","protocol":"postgres","tls":"passthrough","enabled":false}]}`, schemaOK: true},
		{name: "defaults", json: `{"proxies":[{"name":"my.db-1","upstream":"db.internal:3306","protocol":"mysql"}]}`, schemaOK: true},
		{name: "unknown top-level field", json: `{"proxy":[]}`, errText: `unknown field "proxy"`},
		{name: "unknown proxy field", json: `{"proxies":[{"name":"pg","upstream":"127.0.0.1:5432","protocol":"postgres","port":1}]}`, errText: `unknown field "port"`},
		{name: "bad protocol", json: `{"proxies":[{"name":"pg","upstream":"127.0.0.1:5432","protocol":"oracle"}]}`, errText: `invalid protocol "oracle"`},
		{name: "bad tls", json: `{"proxies":[{"name":"pg","upstream":"127.0.0.1:5432","protocol":"postgres","tls":"require"}]}`, errText: `invalid tls mode "require"`},
		{name: "bad name", json: `{"proxies":[{"name":"Primary DB","upstream":"127.0.0.1:5432","protocol":"postgres"}]}`, errText: `invalid proxy name "Primary DB"`},
		{name: "missing upstream", json: `{"proxies":[{"name":"pg","protocol":"postgres"}]}`, errText: "missing upstream"},
		{name: "upstream without port", json: `{"proxies":[{"name":"pg","upstream":"localhost","protocol":"postgres"}]}`, schemaOK: true, errText: `invalid upstream address "localhost"`},
		{name: "upstream port 0", json: `{"proxies":[{"name":"pg","upstream":"127.0.0.1:0","protocol":"postgres"}]}`, schemaOK: true, errText: "port 0 cannot be dialled"},
		{name: "listen port out of range", json: `{"proxies":[{"name":"pg","listen":"127.0.0.1:70000","upstream":"127.0.0.1:5432","protocol":"postgres"}]}`, schemaOK: true, errText: `port "70000"`},
		{name: "duplicate name", json: `{"proxies":[{"name":"pg","upstream":"127.0.0.1:5432","protocol":"postgres"},{"name":"pg","upstream":"127.0.0.1:5433","protocol":"postgres"}]}`, schemaOK: true, errText: `duplicate proxy name "pg"`},
		{name: "duplicate listen", json: `{"proxies":[{"name":"a","listen":":15432","upstream":"127.0.0.1:5432","protocol":"tcp"},{"name":"b","listen":"127.0.0.1:15432","upstream":"127.0.0.1:5433","protocol":"tcp"}]}`, schemaOK: true, errText: "listens on 127.0.0.1:15432 like proxy"},
		{name: "trailing data", json: `{} {}`, schemaOK: true, errText: "unexpected data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig([]byte(tc.json))
			switch {
			case tc.errText == "" && err != nil:
				t.Errorf("parseConfig: %v, expected the config to be valid", err)
			case tc.errText != "" && err == nil:
				t.Errorf("parseConfig accepted the config, expected an error containing %q", tc.errText)
			case tc.errText != "" && !strings.Contains(err.Error(), tc.errText):
				t.Errorf("parseConfig: %v, expected an error containing %q", err, tc.errText)
			}
			if err := New().ValidateConfig(context.Background(), []byte(tc.json)); (err == nil) != (tc.errText == "") {
				t.Errorf("ValidateConfig: %v, expected the same outcome as parseConfig", err)
			}

			if tc.name == "trailing data" {
				return // not a single JSON document, so the schema does not apply
			}
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.json))
			if err != nil {
				t.Fatalf("parse %s: %v", tc.json, err)
			}
			if err := schema.Validate(doc); (err == nil) != tc.schemaOK {
				t.Errorf("schema validation: %v, expected accepted=%v", err, tc.schemaOK)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := parseConfig([]byte(`{"proxies":[{"name":"a","upstream":"127.0.0.1:5432","protocol":"tcp"},{"name":"b","listen":":6000","upstream":"127.0.0.1:5433","protocol":"tcp"}]}`))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	a, b := cfg.Proxies[0], cfg.Proxies[1]
	if a.Listen != "127.0.0.1:0" || a.TLS != TLSRefuse || !a.isEnabled() {
		t.Errorf("defaults of proxy a: listen %q tls %q enabled %v, expected 127.0.0.1:0, refuse, true", a.Listen, a.TLS, a.isEnabled())
	}
	if b.Listen != "127.0.0.1:6000" {
		t.Errorf("listen :6000 became %q, expected loopback 127.0.0.1:6000", b.Listen)
	}
}

func TestInitializeFailureKeepsProxies(t *testing.T) {
	p, addr := tcpProxy(t)
	conn := dial(t, addr)
	before := listProxies(t, p)

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer busy.Close()
	cfg := `{"proxies":[
		{"name":"echo","upstream":"` + before[0].Upstream + `","protocol":"tcp"},
		{"name":"other","upstream":"127.0.0.1:9","protocol":"tcp"},
		{"name":"clash","listen":"` + busy.Addr().String() + `","upstream":"127.0.0.1:9","protocol":"tcp"}]}`
	err = p.Initialize(context.Background(), []byte(cfg))
	if err == nil || !strings.Contains(err.Error(), `proxy "clash": listen on `+busy.Addr().String()) {
		t.Fatalf("initialize with a busy port: %v, expected an error naming proxy clash and its address", err)
	}

	after := listProxies(t, p)
	if len(after) != 1 || after[0].Address != before[0].Address {
		t.Errorf("proxies after the failed initialize: %+v, expected only echo at %s", after, before[0].Address)
	}
	if got := echoRoundTrip(t, conn, []byte("still here")); string(got) != "still here" {
		t.Errorf("connection after the failed initialize echoed %q", got)
	}
}
