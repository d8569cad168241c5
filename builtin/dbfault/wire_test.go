package dbfault

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"testing"
	"time"
)

func TestMySQLErrPacket(t *testing.T) {
	tests := []struct {
		name       string
		protocol41 bool
		want       []byte
	}{
		{
			name:       "protocol 4.1",
			protocol41: true,
			want:       append([]byte{13, 0, 0, 1, 0xff, 0xbd, 0x04, '#', '4', '0', '0', '0', '1'}, "oops"...),
		},
		{
			name: "before 4.1",
			want: append([]byte{7, 0, 0, 1, 0xff, 0xbd, 0x04}, "oops"...),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mysqlErrPacket(1, 1213, "40001", "oops", tc.protocol41)
			if !bytes.Equal(got, tc.want) {
				t.Errorf("packet %v, expected %v", got, tc.want)
			}
		})
	}
}

// greeting builds a protocol 10 greeting with the given lower capability
// flags, laid out as MariaDB 10.11 sends it.
func greeting(caps uint16) []byte {
	p := []byte{myGreetingV10}
	p = append(p, "10.11.19-MariaDB\x00"...)
	p = append(p, 7, 0, 0, 0)    // connection id
	p = append(p, "abcdefgh"...) // auth-plugin-data part 1
	p = append(p, 0)             // filler
	p = binary.LittleEndian.AppendUint16(p, caps)
	p = append(p, 45, 2, 0, 0xff, 0x81, 21) // charset, status, upper flags, auth data length
	return p
}

func TestClearGreetingSSL(t *testing.T) {
	const others = myCapProtocol41 | 0x0001
	payload := greeting(others | myCapSSL)
	clearGreetingSSL(payload)
	if want := greeting(others); !bytes.Equal(payload, want) {
		t.Errorf("greeting after clearing SSL:\n%v\nexpected\n%v", payload, want)
	}

	truncated := greeting(myCapSSL)[:20]
	before := bytes.Clone(truncated)
	clearGreetingSSL(truncated)
	if !bytes.Equal(truncated, before) {
		t.Error("a truncated greeting was modified")
	}
}

func TestLengthEncodedInt(t *testing.T) {
	tests := []struct {
		in   []byte
		want uint64
		rest int
		ok   bool
	}{
		{in: []byte{0, 'x'}, want: 0, rest: 1, ok: true},
		{in: []byte{250}, want: 250, ok: true},
		{in: []byte{0xfc, 0x34, 0x12}, want: 0x1234, ok: true},
		{in: []byte{0xfd, 0x56, 0x34, 0x12, 'x'}, want: 0x123456, rest: 1, ok: true},
		{in: []byte{0xfe, 1, 0, 0, 0, 0, 0, 0, 0x80}, want: 1<<63 | 1, ok: true},
		{in: []byte{0xfc, 0x34}},
		{in: []byte{0xfb}},
		{in: nil},
	}
	for _, tc := range tests {
		got, rest, ok := lengthEncodedInt(tc.in)
		if ok != tc.ok || got != tc.want || len(rest) != tc.rest {
			t.Errorf("lengthEncodedInt(%v) = %d, %d bytes left, %v; expected %d, %d, %v", tc.in, got, len(rest), ok, tc.want, tc.rest, tc.ok)
		}
	}
}

func TestQueryTextWithAttributes(t *testing.T) {
	s := &mySQLSession{}
	s.clientCaps.Store(myCapQueryAttributes)
	if got := s.queryText([]byte("\x00\x01SELECT 1")); !got.known || got.sql != "SELECT 1" {
		t.Errorf("query without attributes: %+v, expected SELECT 1", got)
	}
	if got := s.queryText([]byte("\x01\x01\x00...SELECT 1")); got.known {
		t.Errorf("query with attributes: %+v, expected unknown text", got)
	}
	s.clientCaps.Store(0)
	if got := s.queryText([]byte("SELECT 2")); got.sql != "SELECT 2" {
		t.Errorf("plain query: %+v, expected SELECT 2", got)
	}
}

func TestFaultMatching(t *testing.T) {
	slow := &fault{spec: faultSpec{Type: FaultSlowQuery, Probability: 1, Latency: 100 * time.Millisecond, Match: regexp.MustCompile(`^SELECT`)}}
	everySlow := &fault{spec: faultSpec{Type: FaultSlowQuery, Probability: 1, Latency: 10 * time.Millisecond}}
	never := &fault{spec: faultSpec{Type: FaultQueryError, Probability: 0}}
	failing := &fault{spec: faultSpec{Type: FaultQueryError, Probability: 1, Match: regexp.MustCompile(`UPDATE`)}}
	set := newFaultSet([]*fault{slow, everySlow, never, failing})

	tests := []struct {
		name  string
		sql   string
		known bool
		delay time.Duration
		err   *fault
	}{
		{name: "matching select", sql: "SELECT 1", known: true, delay: 110 * time.Millisecond},
		{name: "update", sql: "UPDATE t SET x = 1", known: true, delay: 10 * time.Millisecond, err: failing},
		{name: "unknown text", sql: "", known: false, delay: 10 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := set.forQuery(tc.sql, tc.known)
			if got.delay != tc.delay || got.err != tc.err {
				t.Errorf("forQuery(%q) = delay %s, error fault %p; expected %s, %p", tc.sql, got.delay, got.err, tc.delay, tc.err)
			}
		})
	}
	if got := (*faultSet)(nil).forQuery("SELECT 1", true); got.delay != 0 || got.err != nil {
		t.Errorf("empty set returned %+v", got)
	}
}

func TestFaultJitterBounds(t *testing.T) {
	f := &fault{spec: faultSpec{Latency: 100 * time.Millisecond, Jitter: 20 * time.Millisecond}}
	for range 1000 {
		if d := f.latency(); d < 80*time.Millisecond || d > 120*time.Millisecond {
			t.Fatalf("latency %s outside 100ms ± 20ms", d)
		}
	}
	s := &fault{spec: faultSpec{AverageSize: 10, SizeVariation: 3}}
	for range 1000 {
		if n := s.sliceSize(); n < 7 || n > 13 {
			t.Fatalf("slice size %d outside 10 ± 3", n)
		}
	}
}
