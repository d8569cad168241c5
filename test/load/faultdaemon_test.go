package load

import (
	"context"
	"os"
	"testing"
	"time"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

func socketDeleted() faultCase {
	return faultCase{
		name: "socket file deleted under the daemon",
		inject: func(t *testing.T, d *daemon, _ *background) {
			if err := os.Remove(d.socket); err != nil {
				t.Fatal(err)
			}
			// The background load keeps using its open connection, and the
			// daemon listens again so that new clients can connect.
			time.Sleep(faultWindow)
			deadline := time.Now().Add(10 * time.Second)
			for {
				err := statusOnNewConnection(d.socket)
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no new connection 10s after the socket file was deleted: %v", err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if info, err := os.Stat(d.socket); err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("recreated socket: %v, mode %v; want mode 0600", err, info.Mode())
			}
		},
		afterStop: func(t *testing.T, d *daemon) {
			d.start()
			mustCall(t, d, noopID, `{}`)
		},
	}
}

// statusOnNewConnection dials socket afresh and calls Status.
func statusOnNewConnection(socket string) error {
	conn, err := dialDaemon(socket)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = apiv1.NewDaemonClient(conn).Status(ctx, &apiv1.StatusRequest{})
	return err
}

// reloadKillDelays are the times after the replacement of a plugin file at
// which the daemon is killed, so that the kill lands at different steps of
// the reload. Which step each delay hits depends on the machine's speed.
var reloadKillDelays = []time.Duration{0, 30 * time.Millisecond, 120 * time.Millisecond}

func daemonKilledDuringReload() faultCase {
	return faultCase{
		name:        "daemon SIGKILLed during a reload",
		setup:       installSelfIDVictim,
		killsDaemon: true,
		inject: func(t *testing.T, d *daemon, load *background) {
			// The load stops first: the daemon's death fails its calls.
			load.halt()
			for i, delay := range reloadKillDelays {
				trailer := idTrailer(victimID, i+1)
				d.install(bins.selfid, victimName, trailer)
				time.Sleep(delay)
				d.kill()
				checkNoOrphans(t, d.dataDir)

				d.start()
				want := fileSHA256(t, bins.selfid, trailer)
				d.waitPlugin(victimName, apiv1.PluginState_PLUGIN_STATE_RUNNING, 30*time.Second, func(p *apiv1.PluginInfo) bool {
					return p.Sha256 == want
				})
				mustCall(t, d, victimID, `{}`)
			}
			// runFault restarts the daemon and reads the writes back.
			d.kill()
		},
	}
}
