package api

import (
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// Metrics records Execute requests for the daemon's metrics; host/metrics
// implements it. Its methods must be safe for concurrent use and return
// quickly.
type Metrics interface {
	// ObserveCall records one Execute request. pluginID is empty when no
	// plugin of the requested id exists, and tenantID is empty unless the
	// tenant gate admitted the call.
	ObserveCall(pluginID, tenantID string, params []byte, resp *apiv1.ExecuteResponse, err error, d time.Duration)
	// ObserveRejection records a call that the tenant gate rejected with
	// err.
	ObserveRejection(tenantID string, err error)
}

// SetMetrics makes the server record its calls in m. Call it before the
// server serves; without it, nothing is recorded.
func (s *Server) SetMetrics(m Metrics) {
	s.metrics = m
}

// callRecord is the start, plugin and tenant of a call, each set once
// Execute has checked it.
type callRecord struct {
	start    time.Time
	pluginID string
	tenantID string
}

// pluginFound sets the record's plugin unless the lookup returned
// NotFound, because the id is then only the caller's input and must not
// become a label value.
func (c *callRecord) pluginFound(id string, lookupErr error) {
	if status.Code(lookupErr) != codes.NotFound {
		c.pluginID = id
	}
}

func (s *Server) observeCall(c *callRecord, req *apiv1.ExecuteRequest, resp *apiv1.ExecuteResponse, err error) {
	if s.metrics == nil {
		return
	}
	s.metrics.ObserveCall(c.pluginID, c.tenantID, req.GetParametersJson(), resp, err, time.Since(c.start))
}

func (s *Server) observeRejection(tenantID string, err error) {
	if s.metrics != nil {
		s.metrics.ObserveRejection(tenantID, err)
	}
}
