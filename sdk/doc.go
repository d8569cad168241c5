// Package sdk is the public SDK for mockforged plugins.
//
// A plugin is a program that implements Plugin and calls Serve from main.
// The mockforged daemon launches it as a child process with
// github.com/hashicorp/go-plugin over gRPC, checks its handshake and
// metadata, validates its config against the JSON Schema it declares, and
// calls it on behalf of tenants. Plugin authors only see the plain Go types
// of this package; the protobuf contract stays inside the SDK.
//
// A whole plugin:
//
//	type greeter struct{}
//
//	func (greeter) Metadata() sdk.Metadata {
//		return sdk.Metadata{ID: "greeter", Name: "Greeter", Version: "1.0.0"}
//	}
//	func (greeter) Capabilities() []sdk.Capability { return []sdk.Capability{sdk.CapabilityObservability} }
//	func (greeter) ConfigSchema() []byte              { return nil }
//	func (greeter) Initialize(context.Context, json.RawMessage) error { return nil }
//	func (greeter) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
//		var p struct{ Name string `json:"name"` }
//		if err := req.DecodeParameters(&p); err != nil {
//			return nil, err
//		}
//		return sdk.OK("hello "+p.Name, map[string]string{"greeting": "hello " + p.Name}), nil
//	}
//	func (greeter) Cleanup(context.Context) error { return nil }
//
//	func main() { sdk.Serve(greeter{}) }
//
// Build it, then move the binary into the daemon's plugins directory (write
// it elsewhere on the same file system first, then rename it into place).
//
// Optional behaviour is a separate interface found by type assertion:
// ConfigValidator for checks beyond the JSON Schema, and Hooks for code that
// runs around calls. Plugins read and write per-tenant state that survives
// restarts with Storage.
//
// Package sdk/sdktest runs a plugin in-process or as a subprocess the way the
// daemon does, for the plugin's own tests.
package sdk
