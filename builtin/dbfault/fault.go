package dbfault

import (
	"math/rand/v2"
	"regexp"
	"time"
)

// FaultType names a kind of fault.
type FaultType string

// Fault types. Query faults need a postgres or mysql proxy; the others work
// on every proxy.
const (
	// FaultSlowQuery delays queries before they reach the server.
	FaultSlowQuery FaultType = "slow_query"
	// FaultQueryError fails queries with a protocol error.
	FaultQueryError FaultType = "query_error"
	// FaultConnectionTimeout accepts new connections and sends nothing on
	// them for a while.
	FaultConnectionTimeout FaultType = "connection_timeout"
	// FaultConnectionReset resets connections with a TCP RST.
	FaultConnectionReset FaultType = "connection_reset"
	// FaultBandwidth limits the bytes per second in one direction.
	FaultBandwidth FaultType = "bandwidth"
	// FaultSlicer splits the byte stream into small writes with pauses.
	FaultSlicer FaultType = "slicer"
)

// faultTypes lists every fault type in the order that documentation and
// error messages show them.
var faultTypes = []FaultType{
	FaultSlowQuery, FaultQueryError, FaultConnectionTimeout,
	FaultConnectionReset, FaultBandwidth, FaultSlicer,
}

// isQueryFault reports whether t needs a proxy that reads queries.
func (t FaultType) isQueryFault() bool {
	return t == FaultSlowQuery || t == FaultQueryError
}

// Direction is the way bytes flow through a proxy.
type Direction string

// Directions.
const (
	// DirectionUpstream is from the client to the server.
	DirectionUpstream Direction = "upstream"
	// DirectionDownstream is from the server to the client.
	DirectionDownstream Direction = "downstream"
	// DirectionBoth is both ways.
	DirectionBoth Direction = "both"
)

// covers reports whether d includes the single direction flow.
func (d Direction) covers(flow Direction) bool {
	return d == DirectionBoth || d == flow
}

// Which connections a connection_reset fault resets.
const (
	resetNew      = "new"
	resetExisting = "existing"
	resetAll      = "all"
)

// faultSpec is a validated fault request. Fields that do not apply to
// Type are zero.
type faultSpec struct {
	Type        FaultType
	Proxy       string
	Duration    time.Duration
	Probability float64
	Direction   Direction

	// slow_query
	Latency time.Duration
	Jitter  time.Duration

	// slow_query and query_error; nil matches every query.
	Match *regexp.Regexp

	// query_error. Code is used by mysql proxies only; SQLState by both.
	SQLState string
	Code     uint16
	Message  string

	// connection_timeout: how long to hold a connection before serving it
	// (0 holds it until the fault ends). slicer: pause between slices.
	Delay time.Duration

	// connection_reset
	Connections string
	AfterBytes  int64

	// bandwidth
	BytesPerSecond int64

	// slicer
	AverageSize   int
	SizeVariation int
}

// fault is an active fault.
type fault struct {
	id string
	// seq orders faults by creation.
	seq     uint64
	tenant  string
	spec    faultSpec
	created time.Time
	expires time.Time
	// done is closed when the fault is removed, which releases connections
	// that a connection_timeout fault holds.
	done  chan struct{}
	timer *time.Timer
}

// active reports whether the fault has not been removed yet.
func (f *fault) active() bool {
	select {
	case <-f.done:
		return false
	default:
		return true
	}
}

// roll decides with the fault's probability whether it fires once.
func (f *fault) roll() bool {
	p := f.spec.Probability
	return p >= 1 || rand.Float64() < p
}

// matches reports whether a query fault applies to the SQL text. A fault
// without a pattern matches every query, even one whose text the proxy did
// not read. A fault with a pattern matches only known text.
func (f *fault) matches(sql string, known bool) bool {
	if f.spec.Match == nil {
		return true
	}
	return known && f.spec.Match.MatchString(sql)
}

// latency returns the delay for one query: Latency plus a uniform jitter
// in [-Jitter, +Jitter]. Validation keeps Jitter <= Latency, so the result
// is never negative.
func (f *fault) latency() time.Duration {
	d := f.spec.Latency
	if j := f.spec.Jitter; j > 0 {
		d += time.Duration(rand.Int64N(int64(2*j)+1)) - j
	}
	return d
}

// sliceSize returns the size of the next slicer write.
func (f *fault) sliceSize() int {
	size := f.spec.AverageSize
	if v := f.spec.SizeVariation; v > 0 {
		size += rand.IntN(2*v+1) - v
	}
	return max(size, 1)
}

// faultSet is an immutable snapshot of one proxy's active faults, which
// connections read without locking. A proxy with no faults has a nil set.
type faultSet struct {
	slowQueries []*fault
	queryErrors []*fault
	timeouts    []*fault
	resets      []*fault
	bandwidths  []*fault
	slicers     []*fault
}

// newFaultSet sorts faults, given in creation order, by type.
func newFaultSet(faults []*fault) *faultSet {
	if len(faults) == 0 {
		return nil
	}
	s := &faultSet{}
	for _, f := range faults {
		switch f.spec.Type {
		case FaultSlowQuery:
			s.slowQueries = append(s.slowQueries, f)
		case FaultQueryError:
			s.queryErrors = append(s.queryErrors, f)
		case FaultConnectionTimeout:
			s.timeouts = append(s.timeouts, f)
		case FaultConnectionReset:
			s.resets = append(s.resets, f)
		case FaultBandwidth:
			s.bandwidths = append(s.bandwidths, f)
		case FaultSlicer:
			s.slicers = append(s.slicers, f)
		}
	}
	return s
}

// hasByteFaults reports whether writes need to look at the set.
func (s *faultSet) hasByteFaults() bool {
	return s != nil && (len(s.bandwidths) > 0 || len(s.slicers) > 0)
}

// queryOutcome is the delay and the error that query faults choose for
// one query.
type queryOutcome struct {
	delay time.Duration
	err   *fault
}

// forQuery decides the delay and the error, if any, for one query. Every
// matching slow_query fault that fires adds its latency; the first matching
// query_error fault that fires supplies the error.
func (s *faultSet) forQuery(sql string, known bool) queryOutcome {
	var out queryOutcome
	if s == nil {
		return out
	}
	for _, f := range s.slowQueries {
		if f.matches(sql, known) && f.roll() {
			out.delay += f.latency()
		}
	}
	for _, f := range s.queryErrors {
		if f.matches(sql, known) && f.roll() {
			out.err = f
			break
		}
	}
	return out
}
