package scenariorun

import (
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/scenario"
)

// maxDuration returns the scenario's max duration, checked against the
// tenant's.
func (o *Orchestrator) maxDuration(tenantID string, s *scenario.Scenario) (time.Duration, error) {
	limit, limited, err := o.opts.Gate.MaxDuration(tenantID)
	if err != nil {
		return 0, err
	}
	d := s.MaxDuration.D()
	switch {
	case d == 0 && limited:
		d = limit
	case d == 0:
		d = DefaultMaxDuration
	case limited && d > limit:
		return 0, status.Errorf(codes.ResourceExhausted, "scenario %q: %s", s.Name, maxDurationExceeded(tenantID, d, limit))
	}
	return d, nil
}

// MaxDurationValidator returns a scenario.Validator that rejects a
// max_duration above the tenant's max duration, so that the mistake shows
// when the scenario is stored. Run checks it again, because the tenant's
// limit may have been lowered since.
func (o *Orchestrator) MaxDurationValidator(tenantID string) (scenario.Validator, error) {
	limit, limited, err := o.opts.Gate.MaxDuration(tenantID)
	if err != nil {
		return nil, err
	}
	return func(s *scenario.Scenario) []scenario.FieldError {
		if d := s.MaxDuration.D(); limited && d > limit {
			return []scenario.FieldError{{Path: "/max_duration", Message: maxDurationExceeded(tenantID, d, limit)}}
		}
		return nil
	}, nil
}

func maxDurationExceeded(tenantID string, d, limit time.Duration) string {
	return fmt.Sprintf("max_duration %s is above tenant %q's max duration of %s; lower max_duration, or raise the limit with `mockforged tenants set-quota %s --max-duration D`",
		d, tenantID, limit, tenantID)
}
