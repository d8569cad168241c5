// Command mockforged is the mockforged daemon and its command-line client in
// one binary. "mockforged serve" runs the daemon. The other commands call the
// daemon's gRPC API on its unix socket.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(execute(context.Background(), os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr}))
}
