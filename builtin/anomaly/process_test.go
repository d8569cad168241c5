package anomaly_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/mockforge/mockforged/builtin/anomaly"
	"github.com/mockforge/mockforged/builtin/anomaly/csvio"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
	"github.com/mockforge/mockforged/sdk"
	"github.com/mockforge/mockforged/sdk/sdktest"
)

const testMain = "github.com/mockforge/mockforged/builtin/anomaly/internal/testmain"

// hostStorage is the host side of the Storage service, kept in memory so
// that it outlives the plugin processes of a test.
type hostStorage struct {
	pluginv1.UnimplementedStorageServer
	mu   sync.Mutex
	data map[string][]byte
}

func newHostStorage() *hostStorage { return &hostStorage{data: map[string][]byte{}} }

func (s *hostStorage) Put(_ context.Context, r *pluginv1.StoragePutRequest) (*pluginv1.StoragePutResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[r.TenantId+"\x00"+r.Key] = r.Value
	return &pluginv1.StoragePutResponse{}, nil
}

func (s *hostStorage) Get(_ context.Context, r *pluginv1.StorageGetRequest) (*pluginv1.StorageGetResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[r.TenantId+"\x00"+r.Key]
	return &pluginv1.StorageGetResponse{Found: ok, Value: v}, nil
}

func (s *hostStorage) Delete(_ context.Context, r *pluginv1.StorageDeleteRequest) (*pluginv1.StorageDeleteResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.data[r.TenantId+"\x00"+r.Key]
	delete(s.data, r.TenantId+"\x00"+r.Key)
	return &pluginv1.StorageDeleteResponse{Deleted: ok}, nil
}

func (s *hostStorage) List(_ context.Context, r *pluginv1.StorageListRequest) (*pluginv1.StorageListResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	prefix := r.TenantId + "\x00" + r.Prefix
	for k := range s.data {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, strings.TrimPrefix(k, r.TenantId+"\x00"))
		}
	}
	return &pluginv1.StorageListResponse{Keys: keys}, nil
}

// hostPlugin is the host half of go-plugin's plugin pair; its client keeps
// the broker to serve storage on.
type hostPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

type hostClient struct {
	rpc    pluginv1.PluginClient
	broker *goplugin.GRPCBroker
	client *goplugin.Client
}

func (hostPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the test host serves no plugin")
}

func (hostPlugin) GRPCClient(_ context.Context, broker *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &hostClient{rpc: pluginv1.NewPluginClient(conn), broker: broker}, nil
}

// startPlugin launches the plugin binary, serves storage to it on the
// go-plugin broker and initialises it, as the daemon does.
func startPlugin(t testing.TB, binary string, storage *hostStorage) *hostClient {
	t.Helper()
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: map[int]goplugin.PluginSet{sdk.ProtocolVersion: {sdk.PluginName: hostPlugin{}}},
		Cmd:              exec.Command(binary),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "test-host", Level: hclog.Error}),
		StartTimeout:     30 * time.Second,
	})
	t.Cleanup(client.Kill)

	rpcClient, err := client.Client()
	if err != nil {
		t.Fatalf("start plugin: %v", err)
	}
	raw, err := rpcClient.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("dispense plugin: %v", err)
	}
	hc := raw.(*hostClient)
	hc.client = client

	id := hc.broker.NextId()
	go hc.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		pluginv1.RegisterStorageServer(s, storage)
		return s
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := hc.rpc.Initialize(ctx, &pluginv1.InitializeRequest{ConfigJson: []byte(`{}`), StorageBrokerId: id}); err != nil {
		t.Fatalf("initialize plugin: %v", err)
	}
	return hc
}

// initialize applies a new config to the running plugin, as the daemon
// does when an operator configures it.
func (h *hostClient) initialize(t testing.TB, config string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.rpc.Initialize(ctx, &pluginv1.InitializeRequest{ConfigJson: []byte(config)}); err != nil {
		t.Fatalf("initialize plugin with %s: %v", config, err)
	}
}

// call runs one operation for tenant and decodes its data into out.
func (h *hostClient) call(t testing.TB, tenant string, params, out any) {
	t.Helper()
	raw, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.execute(tenant)(context.Background(), raw)
	if err != nil || !res.Success {
		t.Fatalf("%s: %+v %v", raw, res, err)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatalf("decode %s: %v", res.Data, err)
		}
	}
}

// execute returns an ExecuteFunc that calls the plugin process for tenant.
func (h *hostClient) execute(tenant string) anomaly.ExecuteFunc {
	return func(ctx context.Context, params json.RawMessage) (*sdk.ExecuteResult, error) {
		resp, err := h.rpc.Execute(ctx, &pluginv1.ExecuteRequest{TenantId: tenant, ParametersJson: params})
		if err != nil {
			return nil, err
		}
		res := &sdk.ExecuteResult{Success: resp.Success, Message: resp.Message, Data: resp.DataJson}
		if resp.Error != nil {
			res.Error = &sdk.ErrorDetail{Code: resp.Error.Code, Message: resp.Error.Message}
		}
		return res, nil
	}
}

// taxiLikeCSV returns n half-hourly rows with a daily cycle, like
// nyc_taxi.csv, and one spike at row spike.
func taxiLikeCSV(n, spike int) string {
	var b strings.Builder
	b.WriteString("timestamp,value\n")
	start := time.Date(2014, 7, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		v := 15000 + 8000*math.Sin(2*math.Pi*float64(i)/48) + float64((i*7919)%1000)
		if i == spike {
			v = 60000
		}
		fmt.Fprintf(&b, "%s,%.0f\n", start.Add(time.Duration(i)*30*time.Minute).Format("2006-01-02 15:04:05"), v)
	}
	return b.String()
}

func TestSubprocess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the plugin binary")
	}
	binary := sdktest.Build(t, testMain)
	t.Run("scan and restart", func(t *testing.T) { testSubprocessScanAndRestart(t, binary) })
	t.Run("reconfigure and restart", func(t *testing.T) { testSubprocessReconfigureAndRestart(t, binary) })
}

func testSubprocessScanAndRestart(t *testing.T, binary string) {
	storage := newHostStorage()
	host := startPlugin(t, binary, storage)
	ctx := context.Background()

	scorer := anomaly.NewRemoteScorer(host.execute("acme"), "taxi")
	var out bytes.Buffer
	summary, err := csvio.ScanCSV(ctx, strings.NewReader(taxiLikeCSV(3000, 2500)), &out, scorer, csvio.ScanOptions{})
	if err != nil {
		t.Fatalf("scan through the plugin process: %v", err)
	}
	records, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatalf("scan output is not CSV: %v", err)
	}
	if summary.Rows != 3000 || len(records) != 3001 {
		t.Fatalf("summary %+v with %d lines, want 3000 rows", summary, len(records))
	}
	if records[2501][3] != "true" {
		t.Errorf("spike row %v not flagged", records[2501])
	}

	// Restart: kill the process and start a new one on the same storage.
	host.client.Kill()
	restarted := startPlugin(t, binary, storage)
	params, _ := json.Marshal(anomaly.ListMetricsParams{Operation: anomaly.OpListMetrics})
	res, err := restarted.execute("acme")(ctx, params)
	if err != nil || !res.Success {
		t.Fatalf("list_metrics after restart: %+v %v", res, err)
	}
	var list anomaly.ListMetricsResult
	if err := json.Unmarshal(res.Data, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Metrics) != 1 || list.Metrics[0].Name != "taxi" || list.Metrics[0].Samples != 3000 {
		t.Fatalf("metrics after restart %+v, want taxi with 3000 points", list.Metrics)
	}
	res, err = restarted.execute("globex")(ctx, params)
	if err != nil || !res.Success || strings.Contains(string(res.Data), "taxi") {
		t.Errorf("another tenant sees acme's metric: %s %v", res.Data, err)
	}
}

// testSubprocessReconfigureAndRestart checks that a plugin that took a
// config change returns the same results as a restarted one, because both
// start from the stored models.
func testSubprocessReconfigureAndRestart(t *testing.T, binary string) {
	storage := newHostStorage()
	host := startPlugin(t, binary, storage)
	ctx := context.Background()
	for _, name := range []string{"small", "large"} {
		rows := map[string]int{"small": 400, "large": 500}[name]
		summary, err := anomaly.IngestCSV(ctx, strings.NewReader(taxiLikeCSV(rows, -1)), host.execute("acme"), name, csvio.ScanOptions{}, nil)
		if err != nil || summary.Rows != rows {
			t.Fatalf("ingest %s: %+v %v", name, summary, err)
		}
	}
	host.initialize(t, `{"retention_points": 100}`)
	host.call(t, "acme", anomaly.ListMetricsParams{Operation: anomaly.OpListMetrics}, nil)
	host.initialize(t, `{}`)

	detectParams := anomaly.DetectParams{Operation: anomaly.OpDetect, Metric: "large", Value: new(60000.0)}
	var live, restarted anomaly.ListMetricsResult
	var liveDetect, restartedDetect struct {
		Deviation float64 `json:"deviation_score"`
	}
	host.call(t, "acme", anomaly.ListMetricsParams{Operation: anomaly.OpListMetrics}, &live)
	host.call(t, "acme", detectParams, &liveDetect)

	host.client.Kill()
	again := startPlugin(t, binary, storage)
	again.call(t, "acme", anomaly.ListMetricsParams{Operation: anomaly.OpListMetrics}, &restarted)
	again.call(t, "acme", detectParams, &restartedDetect)

	for i, want := range []int64{500, 400} {
		if live.Metrics[i].Samples != want || restarted.Metrics[i].Samples != want {
			t.Errorf("metric %s: %d samples before the restart, %d after, want %d",
				live.Metrics[i].Name, live.Metrics[i].Samples, restarted.Metrics[i].Samples, want)
		}
	}
	if liveDetect.Deviation != restartedDetect.Deviation {
		t.Errorf("detect: deviation %.2f before the restart, %.2f after, want the same", liveDetect.Deviation, restartedDetect.Deviation)
	}
}

func TestInProcessThroughSDK(t *testing.T) {
	c := sdktest.NewInProcess(t, anomaly.New())
	ctx := context.Background()
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.Metadata.ID != anomaly.PluginID || !info.HasConfigValidator || len(info.ConfigSchema) == 0 {
		t.Errorf("info %+v", info.Metadata)
	}
	if err := c.ValidateConfig(ctx, json.RawMessage(`{"sensitivity": 3}`)); err == nil {
		t.Error("ValidateConfig accepted sensitivity 3")
	}
	if err := c.Initialize(ctx, json.RawMessage(`{}`)); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	res, err := c.ExecuteParams(ctx, map[string]any{
		"operation": "ingest", "metric": "cpu",
		"points": []map[string]any{{"timestamp": "2026-01-05T00:00:00Z", "value": 1}, {"timestamp": 1767571260, "value": 2}},
	})
	if err != nil || !res.Success {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	if !strings.Contains(res.Message, "kept in memory only") {
		t.Errorf("message %q does not say that storage is unavailable", res.Message)
	}
	res, err = c.ExecuteParams(ctx, map[string]any{"operation": "detect", "metric": "cpu", "value": 1})
	if err != nil || res.Success || res.Error.Code != "too_few_samples" {
		t.Errorf("detect before the baseline: %+v %v, want too_few_samples", res, err)
	}
}

// BenchmarkScanSubprocess scans a 10,320-row CSV, the size of nyc_taxi.csv,
// through a plugin process in batches, as `mockforged anomaly scan` does.
func BenchmarkScanSubprocess(b *testing.B) {
	binary := sdktest.Build(b, testMain)
	host := startPlugin(b, binary, newHostStorage())
	input := taxiLikeCSV(10320, 9000)
	b.ResetTimer()
	for range b.N {
		scorer := anomaly.NewRemoteScorer(host.execute("bench"), "")
		if _, err := csvio.ScanCSV(context.Background(), strings.NewReader(input), &bytes.Buffer{}, scorer, csvio.ScanOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/scan")
}
