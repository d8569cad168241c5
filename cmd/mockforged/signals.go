package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

// stopSignals are the signals that stop the daemon. The first one cancels
// its context, and the second one exits the process at once.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// runUntilSignal calls run with a context that the first stop signal
// cancels, and waits for run to return. A second stop signal calls a.exit
// with exitFailure without waiting.
func (a *app) runUntilSignal(parent context.Context, logger hclog.Logger, run func(context.Context) error) error {
	// Both registrations receive every signal. NotifyContext cancels ctx on
	// the first one, and watchSignals counts them.
	received := make(chan os.Signal, 2)
	signal.Notify(received, stopSignals...)
	defer signal.Stop(received)
	ctx, stop := signal.NotifyContext(parent, stopSignals...)
	defer stop()

	done := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Go(func() { a.watchSignals(received, done, logger) })

	err := run(ctx)
	close(done)
	watcher.Wait()
	return err
}

func (a *app) watchSignals(received <-chan os.Signal, done <-chan struct{}, logger hclog.Logger) {
	count := 0
	for {
		select {
		case <-done:
			return
		case sig := <-received:
			count++
			if count == 1 {
				logger.Info("stop signal received; stopping the daemon, send it again to exit at once", "signal", sig.String())
				continue
			}
			logger.Error("second stop signal received; exiting without waiting for the daemon to stop", "signal", sig.String())
			a.exit(exitFailure)
			return
		}
	}
}
