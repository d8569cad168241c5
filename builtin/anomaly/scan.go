package anomaly

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/mockforge/mockforged/builtin/anomaly/csvio"
	"github.com/mockforge/mockforged/builtin/anomaly/detect"
	"github.com/mockforge/mockforged/sdk"
)

// defaultScanName names the anomalies of a scan that targets no metric
// and sends no name.
const defaultScanName = "unnamed-scan"

// scan scores a batch of points in a scan session. Stored metrics change
// only when a scan with a metric commits.
func (c *call) scan(req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	var in struct {
		ScanParams
		Points []pointInput `json:"points"`
	}
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	params := in.ScanParams
	if len(in.Points) > maxPointsPerCall {
		return nil, checkPointCount(len(in.Points))
	}
	points, err := pointsFromInput(in.Points)
	if err != nil {
		return nil, err
	}
	params.Points = points
	if params.Abort {
		return c.abortScan(params)
	}
	policy, err := csvio.ParseOutOfOrder(params.OutOfOrder)
	if err != nil {
		return nil, &opError{code: codeInvalid, msg: err.Error()}
	}
	s, err := c.scanSession(params)
	if err != nil {
		return nil, err
	}
	keep, dropped, err := checkScanPoints(params.Points, s, policy)
	if err != nil {
		return nil, err
	}

	out := ScanResult{SessionID: s.id, Results: make([]csvio.Result, len(params.Points)), Anomalies: []detect.Anomaly{}, Dropped: dropped}
	for i, pt := range params.Points {
		if !keep[i] {
			out.Results[i].Dropped = true
			continue
		}
		res := s.model.Observe(pt.Timestamp.Time, pt.Value, params.Context)
		out.Results[i] = csvio.Result{Score: res.Score, IsAnomaly: res.IsAnomaly}
		if res.IsAnomaly {
			out.Results[i].Severity = string(res.Anomaly.Severity)
			out.Results[i].Type = string(res.Anomaly.Type)
			out.Anomalies = append(out.Anomalies, *res.Anomaly)
		}
	}
	if params.Commit {
		if err := c.commitScan(s); err != nil {
			return nil, err
		}
		out.SessionID, out.Committed = "", true
	}
	msg := fmt.Sprintf("scanned %s, %s", countOf(len(params.Points)-dropped, "point", "points"),
		countOf(len(out.Anomalies), "anomaly", "anomalies"))
	if dropped > 0 {
		msg += ", dropped " + countOf(dropped, "out-of-order point", "out-of-order points")
	}
	if out.Committed && s.metric != "" {
		msg += fmt.Sprintf("; stored as metric %s", s.metric)
	}
	return sdk.OK(msg, out), nil
}

// scanSession returns the session to continue, or starts one from the
// metric's stored model (or an empty model).
func (c *call) scanSession(params ScanParams) (*session, error) {
	if params.SessionID != "" {
		s := c.p.sessions.get(params.SessionID, c.t.id)
		if s == nil {
			return nil, &opError{code: codeSessionGone, msg: fmt.Sprintf(
				"scan session %q not found: it ended, expired after %s idle, or belongs to another tenant; start a new scan",
				params.SessionID, sessionIdleTimeout)}
		}
		if params.Metric != s.metric {
			return nil, &opError{code: codeInvalid, msg: fmt.Sprintf(
				"scan session %q targets metric %q, not %q", params.SessionID, s.metric, params.Metric)}
		}
		return s, nil
	}
	model, err := c.scanStartModel(params.Metric, params.Name)
	if err != nil {
		return nil, err
	}
	s := &session{tenant: c.t.id, metric: params.Metric, model: model, storedNewest: model.Newest()}
	if !c.p.sessions.add(s) {
		return nil, &opError{code: codeLimit, retryable: true, msg: fmt.Sprintf(
			"%d scan sessions are open: finish or abort one, or wait %s for idle ones to expire", maxSessions, sessionIdleTimeout)}
	}
	return s, nil
}

func (c *call) scanStartModel(metric, name string) (*detect.Model, error) {
	if metric == "" {
		if name == "" {
			name = defaultScanName
		}
		if err := validScanName(name); err != nil {
			return nil, err
		}
		return detect.NewModel(name, c.cfg.Config)
	}
	if name != "" && name != metric {
		return nil, &opError{code: codeInvalid, msg: fmt.Sprintf(
			"scan name %q differs from metric %q: a scan of a metric is named by the metric, so send only one of them", name, metric)}
	}
	if err := validMetricName(metric); err != nil {
		return nil, err
	}
	m, found, err := c.model(metric)
	if err != nil {
		return nil, err
	}
	if found {
		return m.Clone(), nil
	}
	return c.newModel(metric, 0)
}

// checkScanPoints rejects a batch with an invalid point before any point is
// scored, and marks the points to score. A point earlier than the one
// before it, or than the newest point of the scan's model, fails the batch
// under the reject policy. Under the drop policy it is skipped and
// counted, and so is a point at the newest stored point's time, so that
// rows sent again are not added twice.
func checkScanPoints(points []PointParam, s *session, policy csvio.OutOfOrder) ([]bool, int, error) {
	last := s.model.Newest()
	seen := s.model.Samples() > 0
	keep := make([]bool, len(points))
	dropped := 0
	for i, pt := range points {
		if pt.Metric != "" {
			return nil, 0, pointError(codeInvalidPoint, i, "scan points take no metric", "the scan has one, remove the point's metric")
		}
		if err := checkValue(pt.Value); err != nil {
			return nil, 0, pointError(codeInvalidPoint, i, err.Error(), "")
		}
		stored := !s.storedNewest.IsZero() && !pt.Timestamp.After(s.storedNewest)
		if policy == csvio.DropOutOfOrder && (stored || (seen && pt.Timestamp.Before(last))) {
			dropped++
			continue
		}
		if seen && pt.Timestamp.Before(last) {
			return nil, 0, pointError(codeOutOfOrder, i, fmt.Sprintf("timestamp %s is earlier than the newest point %s",
				pt.Timestamp.UTC().Format(time.RFC3339Nano), last.UTC().Format(time.RFC3339Nano)),
				"send points in time order, or set out_of_order to drop to skip such points")
		}
		last, seen = pt.Timestamp.Time, true
		keep[i] = true
	}
	return keep, dropped, nil
}

// commitScan ends the session and, when it targets a metric, stores its
// model as that metric.
//
// NOTE: the scan started from a copy of the metric's model, so points
// ingested into the metric while the scan was open are replaced by the
// commit.
func (c *call) commitScan(s *session) error {
	if s.metric != "" {
		if err := c.save([]*detect.Model{s.model.Clone()}); err != nil {
			return err
		}
	}
	c.p.sessions.remove(s.id)
	return nil
}

func (c *call) abortScan(params ScanParams) (*sdk.ExecuteResult, error) {
	if len(params.Points) > 0 || params.Commit {
		return nil, &opError{code: codeInvalid, msg: "abort takes no points and no commit"}
	}
	if params.SessionID == "" {
		return nil, &opError{code: codeInvalid, msg: "abort needs the session_id of the scan to end"}
	}
	if s := c.p.sessions.get(params.SessionID, c.t.id); s != nil {
		c.p.sessions.remove(s.id)
	}
	return sdk.OK("scan aborted; nothing was stored", ScanResult{Results: []csvio.Result{}, Anomalies: []detect.Anomaly{}}), nil
}

// validScanName rejects a scan name that is too long or unprintable. Unlike
// a metric name it may contain spaces, as file names do.
func validScanName(name string) error {
	switch {
	case len(name) > maxMetricNameBytes:
		return &opError{code: codeInvalid, msg: fmt.Sprintf("scan name %.40q... is %d bytes, at most %d are allowed", name, len(name), maxMetricNameBytes)}
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return &opError{code: codeInvalid, msg: fmt.Sprintf("invalid scan name %q: use printable characters", name)}
	}
	return nil
}
