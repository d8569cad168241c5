package dbfault

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// validationPlugin has one proxy of each protocol. The upstreams are never
// dialled because no client connects.
func validationPlugin(t *testing.T) *Plugin {
	t.Helper()
	p := newTestPlugin(t)
	configure(t, p,
		ProxyConfig{Name: "echo", Upstream: "127.0.0.1:9", Protocol: ProtocolTCP},
		ProxyConfig{Name: "pg", Upstream: "127.0.0.1:9", Protocol: ProtocolPostgres},
		ProxyConfig{Name: "my", Upstream: "127.0.0.1:9", Protocol: ProtocolMySQL},
	)
	return p
}

func TestAddFaultRejectsBadInput(t *testing.T) {
	p := validationPlugin(t)
	proxiesBefore := listProxies(t, p)

	tests := []struct {
		name     string
		params   map[string]any
		metadata map[string]string
		code     string
		message  []string
	}{
		{
			name:    "unknown proxy",
			params:  map[string]any{"proxy": "nope", "type": "slow_query", "latency": "1s", "duration": "1m"},
			code:    CodeNotFound,
			message: []string{`proxy "nope" not found`, "echo, pg, my"},
		},
		{
			name:    "missing proxy",
			params:  map[string]any{"type": "slow_query", "latency": "1s", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"missing proxy"},
		},
		{
			name:    "negative latency",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latency": "-5ms", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{`invalid latency "-5ms"`, "positive"},
		},
		{
			name:    "latency not a duration",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latency": "fast", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{`invalid latency "fast"`, "Go duration"},
		},
		{
			name:    "latency as a number",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latency": 200, "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{`invalid latency "200"`, "Go duration"},
		},
		{
			name:    "pattern as an object",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latency": "1s", "match": map[string]any{}, "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"expected a string"},
		},
		{
			name:    "jitter above latency",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latency": "10ms", "jitter": "20ms", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"invalid jitter 20ms", "latency 10ms"},
		},
		{
			name:    "invalid regular expression",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latency": "1s", "match": "^SELECT (", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{`invalid match "^SELECT ("`, "missing closing )"},
		},
		{
			name:    "empty regular expression",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latency": "1s", "match": "", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"pattern is empty"},
		},
		{
			name:    "probability 2",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latency": "1s", "probability": 2, "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"invalid probability 2", "from 0 to 1"},
		},
		{
			name:    "negative probability",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latency": "1s", "probability": -0.1, "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"invalid probability -0.1"},
		},
		{
			name:    "unknown fault type",
			params:  map[string]any{"proxy": "pg", "type": "explode", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{`invalid fault type "explode"`, "slow_query, query_error"},
		},
		{
			name:    "missing duration",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latency": "1s"},
			code:    CodeInvalidArgument,
			message: []string{"missing duration"},
		},
		{
			name:    "zero duration",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latency": "1s", "duration": "0s"},
			code:    CodeInvalidArgument,
			message: []string{`invalid duration "0s"`},
		},
		{
			name:    "parameter of another fault type",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latency": "1s", "sqlstate": "57014", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{`parameter "sqlstate" does not apply to fault type slow_query`},
		},
		{
			name:    "unknown parameter",
			params:  map[string]any{"proxy": "pg", "type": "slow_query", "latencyy": "1s", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{`unknown field "latencyy"`},
		},
		{
			name:    "query fault on a tcp proxy",
			params:  map[string]any{"proxy": "echo", "type": "slow_query", "latency": "1s", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"needs a postgres or mysql proxy", "protocol tcp"},
		},
		{
			name:    "postgres error without sqlstate",
			params:  map[string]any{"proxy": "pg", "type": "query_error", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"missing sqlstate"},
		},
		{
			name:    "postgres error with a mysql code",
			params:  map[string]any{"proxy": "pg", "type": "query_error", "code": 1213, "sqlstate": "40001", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"code applies to mysql proxies only"},
		},
		{
			name:    "malformed sqlstate",
			params:  map[string]any{"proxy": "pg", "type": "query_error", "sqlstate": "4000", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{`invalid sqlstate "4000"`},
		},
		{
			name:    "mysql error without code",
			params:  map[string]any{"proxy": "my", "type": "query_error", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"missing code"},
		},
		{
			name:    "mysql code out of range",
			params:  map[string]any{"proxy": "my", "type": "query_error", "code": 70000, "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"invalid code 70000"},
		},
		{
			name:    "negative connection_timeout delay",
			params:  map[string]any{"proxy": "pg", "type": "connection_timeout", "delay": "-1s", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{`invalid delay "-1s"`},
		},
		{
			name:    "negative after_bytes",
			params:  map[string]any{"proxy": "echo", "type": "connection_reset", "after_bytes": -1, "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"invalid after_bytes -1"},
		},
		{
			name:    "unknown connections",
			params:  map[string]any{"proxy": "echo", "type": "connection_reset", "connections": "some", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{`invalid connections "some"`, "new, existing or all"},
		},
		{
			name:    "unknown direction",
			params:  map[string]any{"proxy": "echo", "type": "bandwidth", "bytes_per_second": 100, "direction": "sideways", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{`invalid direction "sideways"`},
		},
		{
			name:    "bandwidth without rate",
			params:  map[string]any{"proxy": "echo", "type": "bandwidth", "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"missing bytes_per_second"},
		},
		{
			name:    "zero bandwidth",
			params:  map[string]any{"proxy": "echo", "type": "bandwidth", "bytes_per_second": 0, "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"invalid bytes_per_second 0"},
		},
		{
			name:    "slicer variation too large",
			params:  map[string]any{"proxy": "echo", "type": "slicer", "average_size": 10, "size_variation": 10, "duration": "1m"},
			code:    CodeInvalidArgument,
			message: []string{"invalid size_variation 10"},
		},
		{
			name:     "longer than the tenant plan allows",
			params:   map[string]any{"proxy": "pg", "type": "slow_query", "latency": "1s", "duration": "10m"},
			metadata: map[string]string{MetadataMaxDuration: "5m"},
			code:     CodeLimitExceeded,
			message:  []string{"duration 10m0s exceeds the maximum experiment duration 5m0s", `tenant "acme"`},
		},
		{
			name:     "invalid maximum duration from the host",
			params:   map[string]any{"proxy": "pg", "type": "slow_query", "latency": "1s", "duration": "1m"},
			metadata: map[string]string{MetadataMaxDuration: "forever"},
			code:     CodeInvalidArgument,
			message:  []string{MetadataMaxDuration, `"forever"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.params["operation"] = OpAddFault
			detail := callFails(t, p, "acme", tc.metadata, tc.params)
			if detail.Code != tc.code {
				t.Errorf("code %q, expected %q (message %q)", detail.Code, tc.code, detail.Message)
			}
			if !containsAll(detail.Message, tc.message...) {
				t.Errorf("message %q, expected it to contain %q", detail.Message, tc.message)
			}
			if faults := listFaults(t, p, ""); len(faults) != 0 {
				t.Errorf("rejected request left faults behind: %+v", faults)
			}
		})
	}
	if after := listProxies(t, p); !reflect.DeepEqual(after, proxiesBefore) {
		t.Errorf("proxies changed by rejected requests:\nbefore %+v\nafter  %+v", proxiesBefore, after)
	}
}

func TestExecuteRejectsBadOperations(t *testing.T) {
	p := validationPlugin(t)
	tests := []struct {
		name    string
		params  map[string]any
		message []string
	}{
		{name: "missing operation", params: map[string]any{}, message: []string{"missing operation", "add_fault, list_faults, list_proxies, remove_fault, reset"}},
		{name: "unknown operation", params: map[string]any{"operation": "explode"}, message: []string{`unknown operation "explode"`}},
		{name: "parameter of another operation", params: map[string]any{"operation": OpListProxies, "proxy": "pg"}, message: []string{`parameter "proxy" does not apply to operation list_proxies`}},
		{name: "remove without id", params: map[string]any{"operation": OpRemoveFault}, message: []string{"missing id"}},
		{name: "not an object", params: nil, message: []string{"invalid parameters"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			detail := callFails(t, p, "", nil, tc.params)
			if detail.Code != CodeInvalidArgument {
				t.Errorf("code %q, expected %q", detail.Code, CodeInvalidArgument)
			}
			if !containsAll(detail.Message, tc.message...) {
				t.Errorf("message %q, expected it to contain %q", detail.Message, tc.message)
			}
		})
	}

	detail := callFails(t, p, "", nil, map[string]any{"operation": OpRemoveFault, "id": "f99"})
	if detail.Code != CodeNotFound || !strings.Contains(detail.Message, `fault "f99" not found`) {
		t.Errorf("removing an unknown fault: %q %q, expected not_found naming f99", detail.Code, detail.Message)
	}
	detail = callFails(t, p, "", nil, map[string]any{"operation": OpListFaults, "proxy": "nope"})
	if detail.Code != CodeNotFound {
		t.Errorf("listing faults of an unknown proxy: code %q, expected not_found", detail.Code)
	}
}

func TestFaultListing(t *testing.T) {
	p := validationPlugin(t)
	params := map[string]any{
		"operation": OpAddFault, "proxy": "pg", "type": "slow_query", "latency": "200ms",
		"jitter": "20ms", "match": "^SELECT", "probability": 0.5, "duration": "2m",
	}
	res, err := callRaw(p, "acme", map[string]string{MetadataMaxDuration: "2m"}, params)
	if err != nil {
		t.Fatalf("add fault with duration equal to the plan's maximum: %v", err)
	}
	var added struct{ Fault FaultInfo }
	if err := json.Unmarshal(res.Data, &added); err != nil {
		t.Fatalf("decode: %v", err)
	}

	faults := listFaults(t, p, "acme")
	if len(faults) != 1 {
		t.Fatalf("listed %d faults, expected 1", len(faults))
	}
	f := faults[0]
	want := FaultInfo{
		ID: added.Fault.ID, Proxy: "pg", Type: FaultSlowQuery, Tenant: "acme", Probability: 0.5,
		Latency: "200ms", Jitter: "20ms", Match: "^SELECT", Duration: "2m0s",
	}
	got := f
	got.CreatedAt, got.ExpiresAt, got.Remaining, got.RemainingMS = time.Time{}, time.Time{}, "", 0
	if !reflect.DeepEqual(got, want) {
		t.Errorf("listed fault\n%+v\nexpected\n%+v", got, want)
	}
	if f.RemainingMS <= 0 || f.RemainingMS > 120_000 {
		t.Errorf("remaining %dms, expected within the 2m duration", f.RemainingMS)
	}
	if !f.ExpiresAt.Equal(f.CreatedAt.Add(2 * time.Minute)) {
		t.Errorf("expires at %s, expected created at %s plus 2m", f.ExpiresAt, f.CreatedAt)
	}
	if proxies := listProxies(t, p); proxies[1].Faults != 1 {
		t.Errorf("proxy pg lists %d faults, expected 1", proxies[1].Faults)
	}
}

func TestFaultTenants(t *testing.T) {
	p := validationPlugin(t)
	add := func(tenant string) string {
		data := call(t, p, tenant, map[string]any{"operation": OpAddFault, "proxy": "echo", "type": "bandwidth", "bytes_per_second": 1000, "duration": "1m"})
		var f FaultInfo
		if err := json.Unmarshal(data["fault"], &f); err != nil {
			t.Fatalf("decode: %v", err)
		}
		return f.ID
	}
	acme := add("acme")
	globex := add("globex")

	if got := listFaults(t, p, "acme"); len(got) != 1 || got[0].ID != acme || got[0].Tenant != "acme" {
		t.Errorf("acme lists %+v, expected only its own fault %s", got, acme)
	}
	if got := listFaults(t, p, ""); len(got) != 2 {
		t.Errorf("a call without tenant lists %d faults, expected all 2", len(got))
	}
	detail := callFails(t, p, "acme", nil, map[string]any{"operation": OpRemoveFault, "id": globex})
	if detail.Code != CodeNotFound {
		t.Errorf("acme removing globex's fault: code %q, expected not_found", detail.Code)
	}

	data := call(t, p, "acme", map[string]any{"operation": OpReset})
	var removed []FaultInfo
	if err := json.Unmarshal(data["faults"], &removed); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(removed) != 1 || removed[0].ID != acme {
		t.Errorf("acme's reset removed %+v, expected only %s", removed, acme)
	}
	if got := listFaults(t, p, ""); len(got) != 1 || got[0].ID != globex {
		t.Errorf("after acme's reset: %+v, expected globex's fault %s to remain", got, globex)
	}
	call(t, p, "globex", map[string]any{"operation": OpRemoveFault, "id": globex})
	if got := listFaults(t, p, ""); len(got) != 0 {
		t.Errorf("after removal: %+v, expected no faults", got)
	}
}

func TestResetByProxy(t *testing.T) {
	p := validationPlugin(t)
	addFault(t, p, map[string]any{"proxy": "echo", "type": "bandwidth", "bytes_per_second": 1000, "duration": "1m"})
	pgFault := addFault(t, p, map[string]any{"proxy": "pg", "type": "connection_timeout", "duration": "1m"})
	call(t, p, "", map[string]any{"operation": OpReset, "proxy": "echo"})
	if got := listFaults(t, p, ""); len(got) != 1 || got[0].ID != pgFault {
		t.Errorf("after reset of proxy echo: %+v, expected only %s on pg", got, pgFault)
	}
}

// A command line that decodes --param values as JSON sends sqlstate=40001
// as a number.
func TestAddFaultAcceptsNumericText(t *testing.T) {
	p := validationPlugin(t)
	addFault(t, p, map[string]any{"proxy": "pg", "type": "query_error", "sqlstate": 40001, "match": 42, "duration": "1m"})
	faults := listFaults(t, p, "")
	if len(faults) != 1 || faults[0].SQLState != "40001" || faults[0].Match != "42" {
		t.Errorf("faults %+v, expected sqlstate 40001 and match 42", faults)
	}
}
