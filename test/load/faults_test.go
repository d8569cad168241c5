package load

import (
	"os"
	"testing"
	"time"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// victimName is the plugin file, and victimID the plugin id, of the plugin
// that a fault row harms while noop and storage keep serving.
const (
	victimName = "victim"
	victimID   = "victim"
)

// faultCase is one row of the fault suite: one fault injected while the
// background load runs.
type faultCase struct {
	name string
	// needsRoot marks rows that mount file systems.
	needsRoot bool
	// dataDir returns the data directory to use, for rows that put it on
	// a file system of their own. Empty means a fresh temporary one.
	dataDir func(t *testing.T) string
	// wrapper, when set, returns the command line that runs the daemon.
	wrapper func(t *testing.T) []string
	// faultClock runs the daemon built with the faultclock tag, whose wall
	// clock follows the offset in the daemon's clockFile.
	faultClock bool
	// setup runs after the daemon serves noop and storage, before the
	// baseline of descriptors is taken.
	setup func(t *testing.T, d *daemon)
	// inject injects the fault and checks its immediate outcome while the
	// background load runs. The load is halted after it returns.
	inject func(t *testing.T, d *daemon, load *background)
	// killsDaemon marks rows whose fault ends the daemon: their background
	// calls are not expected to succeed, and the daemon is restarted
	// before the acknowledged writes are read back.
	killsDaemon bool
	// afterStop runs after the daemon stopped and no orphan was found.
	afterStop func(t *testing.T, d *daemon)
}

// faultCases are the rows of TestFaults.
func faultCases() []faultCase {
	return []faultCase{
		pluginSIGKILL(),
		pluginSIGSTOP(),
		pluginExitsInCleanup(),
		pluginFloodsStderr(),
		pluginAllocatesUntilKilled(),
		diskFull(),
		dataDirReadOnly(),
		socketDeleted(),
		binaryTruncated(),
		thousandsOfFiles(),
		daemonKilledDuringReload(),
		clockStepped(),
	}
}

func TestFaults(t *testing.T) {
	for _, tc := range faultCases() {
		t.Run(tc.name, func(t *testing.T) {
			// Each row has a daemon and directories of its own.
			t.Parallel()
			if tc.needsRoot && os.Geteuid() != 0 {
				t.Skip("needs root to mount a tmpfs; run the suite as root to include this fault")
			}
			runFault(t, tc)
		})
	}
}

// runFault runs one row: it starts a daemon and runs the background load
// while the row injects its fault. Then it checks that the acknowledged
// writes are there, that the daemon's descriptors are back at their
// baseline, and that no plugin process outlives the daemon.
func runFault(t *testing.T, tc faultCase) {
	dataDir := ""
	if tc.dataDir != nil {
		dataDir = tc.dataDir(t)
	}
	d := newDaemon(t, dataDir)
	if tc.wrapper != nil {
		d.wrapper = tc.wrapper(t)
	}
	if tc.faultClock {
		d.useFaultClock()
	}
	d.start()
	prepareFaultDaemon(t, d)
	if tc.setup != nil {
		tc.setup(t, d)
	}
	baseFDs := takeFDBaseline(t, d)

	load := startBackground(d)
	t.Cleanup(load.halt)
	// Let the load reach a steady state before the fault.
	time.Sleep(300 * time.Millisecond)
	tc.inject(t, d, load)
	load.halt()

	if tc.killsDaemon {
		d.start()
		d.waitPlugin("storage", apiv1.PluginState_PLUGIN_STATE_RUNNING, 30*time.Second, nil)
	} else {
		load.checkCallsServed(t)
	}
	checkAckedWrites(t, d, load.ackedKeys())
	if len(load.ackedKeys()) == 0 {
		t.Error("no write was acknowledged during the fault")
	}

	// A restarted daemon has no baseline to return to.
	if !tc.killsDaemon {
		checkFDsReturn(t, d, baseFDs)
	}
	d.stop()
	checkNoOrphans(t, d.dataDir)
	if tc.afterStop != nil {
		tc.afterStop(t, d)
		d.stop()
		checkNoOrphans(t, d.dataDir)
	}
}
