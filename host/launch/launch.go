// Package launch starts one plugin process with go-plugin over gRPC, checks
// its handshake and metadata, and stops it again.
package launch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
	"github.com/mockforge/mockforged/sdk"
)

// streamWindowBytes and connWindowBytes are the static HTTP/2 flow control
// windows of the daemon's side of a plugin connection, per call and for the
// whole connection. A static window turns off grpc-go's estimate of the
// bandwidth-delay product. That estimate follows a response with a window
// update and a ping that the plugin must acknowledge, which costs about one
// more read and write per call in each process when calls come one at a
// time. The plugin's side sets the same windows in package sdk. 16 MiB is
// the largest window that the estimate grows to in grpc-go 1.85, so large
// messages wait for window updates no more often than with the estimate.
const (
	streamWindowBytes = 16 << 20
	connWindowBytes   = 16 << 20
)

// SupportedProtocolVersions lists the plugin protocol versions the daemon
// speaks.
var SupportedProtocolVersions = []int{sdk.ProtocolVersion}

// Config describes one launch.
type Config struct {
	// Name labels the process in logs and errors: the file name, or
	// "builtin:NAME".
	Name string
	// Path is the binary to execute; its SHA-256 must be Checksum.
	Path     string
	Checksum []byte
	// Args are passed to the binary.
	Args []string
	// Env is the complete environment of the process.
	Env []string
	// StartTimeout bounds the handshake and the first GetInfo call.
	StartTimeout time.Duration
	// Logger is the parent of the plugin's logger.
	Logger hclog.Logger
	// Storage, when set, returns the storage server offered to the plugin
	// with the given id through go-plugin's broker.
	Storage func(pluginID string) pluginv1.StorageServer
}

// Process is a running plugin.
type Process struct {
	// RPC calls the plugin.
	RPC pluginv1.PluginClient
	// Info is the metadata, capabilities and schema the plugin reported at start.
	Info *pluginv1.GetInfoResponse
	// Pid is the process id.
	Pid int
	// ProtocolVersion is the protocol version negotiated at handshake.
	ProtocolVersion int
	// StorageBrokerID is passed in Initialize; 0 when no storage is offered.
	StorageBrokerID uint32

	client   *goplugin.Client
	cmd      *exec.Cmd
	log      hclog.Logger
	exited   chan struct{}
	stopOnce sync.Once
	stopping chan struct{}
}

// exitPollInterval is how often a process is checked for exit. go-plugin
// reports an exit only through polling.
const exitPollInterval = 50 * time.Millisecond

// Start launches the plugin and returns it after its handshake and GetInfo
// succeeded. On error nothing is left running.
func Start(ctx context.Context, cfg Config) (*Process, error) {
	log := cfg.Logger.Named(cfg.Name)
	cmd := exec.Command(cfg.Path, cfg.Args...)
	cmd.Env = cfg.Env
	// The kernel kills the plugin when the daemon dies, even by SIGKILL. A
	// process group of its own keeps a signal sent to the daemon's group
	// (Ctrl-C in a terminal, a service manager's stop) from killing the
	// plugin before the daemon ran its Cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}

	cp := &clientPlugin{}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: versionedPlugins(cp),
		Cmd:              cmd,
		SkipHostEnv:      true,
		SecureConfig:     &goplugin.SecureConfig{Checksum: cfg.Checksum, Hash: sha256.New()},
		AutoMTLS:         true,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		StartTimeout:     cfg.StartTimeout,
		Logger:           log,
		Stderr:           newStderrLogger(log),
		SyncStdout:       newLineLogger(log, "stdout"),
		SyncStderr:       newLineLogger(log, "stderr"),
		GRPCDialOptions: []grpc.DialOption{
			grpc.WithDefaultCallOptions(
				grpc.MaxCallRecvMsgSize(sdk.MaxMessageBytes),
				grpc.MaxCallSendMsgSize(sdk.MaxMessageBytes),
			),
			grpc.WithStaticStreamWindowSize(streamWindowBytes),
			grpc.WithStaticConnWindowSize(connWindowBytes),
		},
	})
	p, err := connect(ctx, client, cp, cfg, log)
	if err != nil {
		killGroup(cmd)
		client.Kill()
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	p.cmd = cmd
	return p, nil
}

// killGroup kills the plugin's whole process group. A plugin started
// through a wrapper, such as a shell script that does not exec, leaves
// children that hold its output pipes open. go-plugin waits for those
// pipes, so the children must die with the plugin.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// groupKillDelay is how long Stop lets go-plugin end the process gently
// before the whole process group is killed.
const groupKillDelay = 2 * time.Second

// kill ends the process through go-plugin and, if that has not finished
// after groupKillDelay, kills the process group so that it can.
func (p *Process) kill() {
	done := make(chan struct{})
	go func() {
		p.client.Kill()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(groupKillDelay):
		killGroup(p.cmd)
		<-done
	}
	// Children of the plugin outlive it unless its group is killed too.
	killGroup(p.cmd)
}

func versionedPlugins(cp *clientPlugin) map[int]goplugin.PluginSet {
	sets := map[int]goplugin.PluginSet{}
	for _, v := range SupportedProtocolVersions {
		sets[v] = goplugin.PluginSet{sdk.PluginName: cp}
	}
	return sets
}

func connect(ctx context.Context, client *goplugin.Client, cp *clientPlugin, cfg Config, log hclog.Logger) (*Process, error) {
	protocol, err := client.Client()
	if err != nil {
		return nil, explainStartError(err)
	}
	if _, err := protocol.Dispense(sdk.PluginName); err != nil {
		return nil, fmt.Errorf("plugin does not offer the %q service: %w", sdk.PluginName, err)
	}
	infoCtx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	info, err := cp.rpc.GetInfo(infoCtx, &pluginv1.GetInfoRequest{})
	if err != nil {
		return nil, fmt.Errorf("read plugin metadata: %w", err)
	}
	if err := checkInfo(info); err != nil {
		return nil, err
	}
	p := &Process{
		RPC:             cp.rpc,
		Info:            info,
		ProtocolVersion: client.NegotiatedVersion(),
		client:          client,
		log:             log,
		exited:          make(chan struct{}),
		stopping:        make(chan struct{}),
	}
	if rc := client.ReattachConfig(); rc != nil {
		p.Pid = rc.Pid
	}
	if cfg.Storage != nil {
		p.StorageBrokerID = serveStorage(cp.broker, cfg.Storage(info.Metadata.GetId()))
	}
	go p.watchExit()
	log.Info("plugin started", "plugin", info.Metadata.GetId(), "version", info.Metadata.GetVersion(), "pid", p.Pid, "protocol", p.ProtocolVersion)
	return p, nil
}

func serveStorage(broker *goplugin.GRPCBroker, srv pluginv1.StorageServer) uint32 {
	id := broker.NextId()
	go broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		opts = append(opts, grpc.MaxRecvMsgSize(sdk.MaxMessageBytes), grpc.MaxSendMsgSize(sdk.MaxMessageBytes))
		s := grpc.NewServer(opts...)
		pluginv1.RegisterStorageServer(s, srv)
		return s
	})
	return id
}

func checkInfo(info *pluginv1.GetInfoResponse) error {
	md := info.GetMetadata()
	if md == nil || md.Id == "" {
		return errors.New("plugin reported no id in its metadata; set Metadata().ID")
	}
	if !validID(md.Id) {
		return fmt.Errorf("plugin id %q is invalid: use 1 to 128 lowercase letters, digits, '.', '_' and '-', starting with a letter or digit", md.Id)
	}
	if md.Version == "" {
		return fmt.Errorf("plugin %s reported no version; set Metadata().Version", md.Id)
	}
	return nil
}

func validID(id string) bool {
	if id == "" || len(id) > 128 || id == "." || id == ".." {
		return false
	}
	for i, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// explainStartError turns go-plugin's start errors into one-line reasons.
func explainStartError(err error) error {
	msg := err.Error()
	first, _, _ := strings.Cut(msg, "\n")
	lower := strings.ToLower(msg)
	const unrecognized = "unrecognized remote plugin message:"
	switch {
	case strings.Contains(lower, "incompatible api version"):
		return fmt.Errorf("unsupported plugin protocol: %s; the daemon supports protocol versions %v, rebuild the plugin against a matching SDK", first, SupportedProtocolVersions)
	case hasFoldedPrefix(first, unrecognized):
		line := strings.TrimSpace(first[len(unrecognized):])
		if line == "" {
			return errors.New("process exited before completing the handshake; is it a mockforged plugin calling sdk.Serve?")
		}
		return fmt.Errorf("not a mockforged plugin, or it wrote to stdout before the handshake: first line was %q", line)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return errors.New("plugin did not complete the handshake in time (start timeout); is it a mockforged plugin calling sdk.Serve?")
	case strings.Contains(msg, "plugin exited before we could connect"):
		return errors.New("process exited before completing the handshake; is it a mockforged plugin calling sdk.Serve?")
	case errors.Is(err, goplugin.ErrChecksumsDoNotMatch):
		return errors.New("binary changed between check and launch (checksum mismatch)")
	case strings.Contains(msg, "exec format error"):
		return errors.New("not an executable program for this system (exec format error)")
	}
	return fmt.Errorf("start plugin: %s", first)
}

// hasFoldedPrefix reports whether s starts with prefix, ignoring case. It
// compares the original bytes because lowercasing can change the length of
// the plugin's text that go-plugin quotes, so offsets found in a lowercased
// copy are not valid in s.
func hasFoldedPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} {
	return p.exited
}

func (p *Process) watchExit() {
	ticker := time.NewTicker(exitPollInterval)
	defer ticker.Stop()
	for range ticker.C {
		if p.client.Exited() {
			close(p.exited)
			return
		}
	}
}

// Stopping is closed once Stop was called, so that an exit after it is not
// mistaken for a crash.
func (p *Process) Stopping() <-chan struct{} {
	return p.stopping
}

// Stop runs the plugin's Cleanup within cleanupTimeout and then ends the
// process. It is safe to call more than once.
func (p *Process) Stop(cleanupTimeout time.Duration) {
	p.stopOnce.Do(func() {
		close(p.stopping)
		select {
		case <-p.exited:
		default:
			ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
			if _, err := p.RPC.Cleanup(ctx, &pluginv1.CleanupRequest{}); err != nil {
				p.log.Warn("plugin cleanup failed", "pid", p.Pid, "error", err)
			}
			cancel()
		}
		p.kill()
		p.log.Info("plugin stopped", "pid", p.Pid)
	})
}

// Kill ends the process without Cleanup.
func (p *Process) Kill() {
	p.stopOnce.Do(func() { close(p.stopping) })
	p.kill()
}

// clientPlugin is the host half of go-plugin's plugin pair.
type clientPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	rpc    pluginv1.PluginClient
	broker *goplugin.GRPCBroker
}

var _ goplugin.GRPCPlugin = (*clientPlugin)(nil)

func (c *clientPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the daemon serves no plugin")
}

func (c *clientPlugin) GRPCClient(_ context.Context, broker *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	c.rpc = pluginv1.NewPluginClient(conn)
	c.broker = broker
	return c.rpc, nil
}

// Environment returns the environment for plugin processes: the daemon's
// values of the variables named in names, and nothing else.
func Environment(names []string) []string {
	var env []string
	for _, name := range names {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}
