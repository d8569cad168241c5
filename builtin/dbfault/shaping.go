package dbfault

import (
	"net"
	"time"
)

// shapedWriter writes one direction of a link and applies the byte-level
// faults on the way: bandwidth, slicer and armed connection resets. Without
// such faults a write goes straight to the connection.
type shapedWriter struct {
	link *link
	flow Direction
	dst  net.Conn
}

// paceInterval is the time one bandwidth-limited write covers: at a rate
// of R bytes per second, writes are R/20 bytes followed by a 50 ms pause.
const paceInterval = 50 * time.Millisecond

func (w *shapedWriter) Write(p []byte) (int, error) {
	faults := w.link.proxy.faults.Load()
	if faults.hasByteFaults() {
		return w.writeShaped(p, faults)
	}
	return w.writeChecked(p)
}

// writeShaped splits p for the slicer and paces it for the bandwidth limit.
func (w *shapedWriter) writeShaped(p []byte, faults *faultSet) (int, error) {
	rate := w.rate(faults)
	slicer := w.slicer(faults)
	written := 0
	for written < len(p) {
		chunk := len(p) - written
		if slicer != nil {
			chunk = min(chunk, slicer.sliceSize())
		}
		if rate > 0 {
			chunk = min(chunk, int(max(rate*int64(paceInterval)/int64(time.Second), 1)))
		}
		n, err := w.writeChecked(p[written : written+chunk])
		written += n
		if err != nil {
			return written, err
		}
		var pause time.Duration
		if rate > 0 {
			pause += time.Duration(int64(n) * int64(time.Second) / rate)
		}
		if slicer != nil && written < len(p) {
			pause += slicer.spec.Delay
		}
		if !w.link.sleep(pause) {
			return written, net.ErrClosed
		}
	}
	return written, nil
}

// rate returns the lowest bandwidth limit that applies to this write, or 0.
func (w *shapedWriter) rate(faults *faultSet) int64 {
	var rate int64
	for _, f := range faults.bandwidths {
		if !w.applies(f) {
			continue
		}
		if rate == 0 || f.spec.BytesPerSecond < rate {
			rate = f.spec.BytesPerSecond
		}
	}
	return rate
}

// slicer returns the oldest slicer fault that applies to this write, or nil.
func (w *shapedWriter) slicer(faults *faultSet) *fault {
	for _, f := range faults.slicers {
		if w.applies(f) {
			return f
		}
	}
	return nil
}

func (w *shapedWriter) applies(f *fault) bool {
	return f.active() && f.spec.Direction.covers(w.flow) && w.link.decide(f)
}

// writeChecked writes p, cutting it short and resetting the link when an
// armed connection reset reaches its byte count.
func (w *shapedWriter) writeChecked(p []byte) (int, error) {
	allowed, fires := len(p), false
	if w.link.armed.Load() > 0 {
		allowed, fires = w.link.allowance(w.flow, len(p))
	}
	n := 0
	if allowed > 0 {
		var err error
		n, err = w.dst.Write(p[:allowed])
		w.count(n)
		if err != nil {
			return n, err
		}
	}
	if fires {
		w.link.reset()
		return n, errConnectionReset
	}
	return n, nil
}

func (w *shapedWriter) count(n int) {
	if w.flow == DirectionUpstream {
		w.link.sentUp.Add(int64(n))
	} else {
		w.link.sentDown.Add(int64(n))
	}
}
