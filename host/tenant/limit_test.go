package tenant

import (
	"encoding/json"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

func TestLimitJSON(t *testing.T) {
	tests := []struct {
		name  string
		limit Limit
		json  string
	}{
		{"zero", LimitOf(0), `0`},
		{"number", LimitOf(50), `50`},
		{"unlimited", Unlimited(), `"unlimited"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.limit)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tt.json {
				t.Errorf("Marshal = %s, want %s", got, tt.json)
			}
			var back Limit
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("Unmarshal(%s): %v", got, err)
			}
			if back != tt.limit {
				t.Errorf("round trip = %v, want %v", back, tt.limit)
			}
		})
	}
}

func TestLimitJSONRejectsInvalid(t *testing.T) {
	for _, in := range []string{`-1`, `"infinite"`, `1.5`, `true`, `"50"`, `null`} {
		var l Limit
		if err := json.Unmarshal([]byte(in), &l); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", in, l)
		}
	}
}

func TestDurationLimitJSON(t *testing.T) {
	tests := []struct {
		in   string
		want DurationLimit
	}{
		{`"10m"`, DurationLimitOf(10 * time.Minute)},
		{`"1h30m"`, DurationLimitOf(90 * time.Minute)},
		{`"unlimited"`, UnlimitedDuration()},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got DurationLimit
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if got != tt.want {
				t.Errorf("Unmarshal = %v, want %v", got, tt.want)
			}
		})
	}
	for _, in := range []string{`600`, `"-1m"`, `"ten minutes"`} {
		var d DurationLimit
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", in, d)
		}
	}
}

func TestQuotasYAMLUnlimited(t *testing.T) {
	q := PlanEnterprise.Quotas()
	out, err := yaml.Marshal(q)
	if err != nil {
		t.Fatalf("yaml.Marshal: %v", err)
	}
	want := "concurrent_executions: 100\nmax_duration: 24h0m0s\nrequests_per_minute: 10000\nscenarios: unlimited\nstorage_bytes: 50000000000\nusers: unlimited\n"
	if string(out) != want {
		t.Errorf("yaml.Marshal =\n%s\nwant\n%s", out, want)
	}
	var back Quotas
	if err := yaml.Unmarshal(out, &back); err != nil {
		t.Fatalf("yaml.Unmarshal: %v", err)
	}
	if back != q {
		t.Errorf("round trip = %+v, want %+v", back, q)
	}
}

func TestLimitAllows(t *testing.T) {
	if !LimitOf(5).Allows(5) || LimitOf(5).Allows(6) {
		t.Error("LimitOf(5) must allow 5 and not 6")
	}
	if LimitOf(0).Allows(1) || !LimitOf(0).Allows(0) {
		t.Error("LimitOf(0) must allow 0 and not 1")
	}
	if !Unlimited().Allows(1 << 62) {
		t.Error("Unlimited must allow any number")
	}
	if !UnlimitedDuration().Allows(1000*time.Hour) || DurationLimitOf(time.Hour).Allows(time.Hour+1) {
		t.Error("duration limits compare wrongly")
	}
}

func TestParseByteLimit(t *testing.T) {
	tests := []struct {
		in   string
		want Limit
	}{
		{"1024", LimitOf(1024)},
		{"500MB", LimitOf(500_000_000)},
		{"5GiB", LimitOf(5 << 30)},
		{"12 KB", LimitOf(12_000)},
		{"7B", LimitOf(7)},
		{"unlimited", Unlimited()},
	}
	for _, tt := range tests {
		got, err := ParseByteLimit(tt.in)
		if err != nil {
			t.Errorf("ParseByteLimit(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseByteLimit(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{"", "-1", "5XB", "1.5GB", "99999999999TB"} {
		if got, err := ParseByteLimit(in); err == nil {
			t.Errorf("ParseByteLimit(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseLimit(t *testing.T) {
	if l, err := ParseLimit("unlimited"); err != nil || !l.IsUnlimited() {
		t.Errorf("ParseLimit(unlimited) = %v, %v", l, err)
	}
	if l, err := ParseLimit("42"); err != nil || l.Max() != 42 {
		t.Errorf("ParseLimit(42) = %v, %v", l, err)
	}
	if _, err := ParseLimit("-3"); err == nil {
		t.Error("ParseLimit(-3) succeeded, want an error")
	}
}
