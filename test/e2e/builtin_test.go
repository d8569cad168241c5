package e2e

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestBuiltinsRunOutOfProcess(t *testing.T) {
	d := startDaemon(t)
	for _, tc := range []struct{ file, id, params string }{
		{"builtin:anomaly", "anomaly-detector", `{"operation":"list_metrics"}`},
		{"builtin:dbfault", "db-fault-injector", `{"operation":"list_proxies"}`},
		// A dry run builds the object without a cluster.
		{"builtin:chaosmesh", "chaos-mesh", `{"operation":"create","kind":"PodChaos","dry_run":true,"spec":{"action":"pod-kill","mode":"one","selector":{"labelSelectors":{"app":"web"}}}}`},
		{"builtin:prommetrics", "prometheus-metrics", `{"operation":"list"}`},
	} {
		t.Run(tc.id, func(t *testing.T) {
			p := d.waitState(tc.file, running, 20*time.Second)
			if p.Id != tc.id || !p.Builtin {
				t.Fatalf("listed id %q builtin %v, want %s built in", p.Id, p.Builtin, tc.id)
			}
			if int(p.Pid) == d.cmd.Process.Pid || p.Pid == 0 {
				t.Fatalf("built-in pid %d is not a separate process (daemon pid %d)", p.Pid, d.cmd.Process.Pid)
			}
			cmdline, err := os.ReadFile("/proc/" + itoa(int(p.Pid)) + "/cmdline")
			if err != nil {
				t.Fatal(err)
			}
			if want := "__plugin"; !containsArg(cmdline, want) {
				t.Errorf("built-in command line %q lacks %q", cmdline, want)
			}
			if err := syscall.Kill(int(p.Pid), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "built-in restarted", func() bool {
				q := d.byFile(tc.file)
				return q != nil && q.State == running && q.Pid != p.Pid
			})
			resp, err := d.exec(context.Background(), tc.id, tc.params)
			if err != nil || !resp.Success {
				t.Errorf("call after restart: %v %v", resp, err)
			}
		})
	}
}

func containsArg(cmdline []byte, want string) bool {
	start := 0
	for i, b := range cmdline {
		if b == 0 {
			if string(cmdline[start:i]) == want {
				return true
			}
			start = i + 1
		}
	}
	return false
}
