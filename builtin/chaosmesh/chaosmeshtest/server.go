// Package chaosmeshtest runs a real Kubernetes API server that serves Chaos
// Mesh's CustomResourceDefinitions, for tests of the chaos-mesh plugin.
//
// The server is the test server of k8s.io/apiextensions-apiserver, started
// in the test process on loopback and backed by an etcd process that it
// starts on free loopback ports. The CRDs are read from Chaos Mesh's Go
// module (github.com/chaos-mesh/chaos-mesh, folder config/crd/bases) in the
// module cache, downloaded with "go mod download" when missing, so tests
// need only the go command, etcd on PATH and the Go module proxy.
package chaosmeshtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	servertesting "k8s.io/apiextensions-apiserver/pkg/cmd/server/testing"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"
)

// ChaosMeshModule and ChaosMeshVersion name the Chaos Mesh module version
// whose CRDs the server installs. It is a pseudo-version close to the one
// of github.com/chaos-mesh/chaos-mesh/api in go.mod.
const (
	ChaosMeshModule  = "github.com/chaos-mesh/chaos-mesh"
	ChaosMeshVersion = "v0.9.1-0.20260902003049-47411975a8cb"
)

// CRDFiles are the CRD files installed, in config/crd/bases.
var CRDFiles = []string{
	"chaos-mesh.org_podchaos.yaml",
	"chaos-mesh.org_networkchaos.yaml",
	"chaos-mesh.org_stresschaos.yaml",
	"chaos-mesh.org_iochaos.yaml",
	"chaos-mesh.org_timechaos.yaml",
	"chaos-mesh.org_dnschaos.yaml",
	"chaos-mesh.org_httpchaos.yaml",
	"chaos-mesh.org_jvmchaos.yaml",
	"chaos-mesh.org_kernelchaos.yaml",
	"chaos-mesh.org_schedules.yaml",
}

// Logger receives the server's progress lines; *testing.T and a plain
// logger in TestMain both fit.
type Logger interface {
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// Server is a running API server with Chaos Mesh's CRDs installed.
type Server struct {
	// Config connects to the server with full rights.
	Config *rest.Config
	dir    string
	etcd   *exec.Cmd
	exited chan struct{}
	stop   func()
}

// unusedKubeconfig points at a loopback address where nothing listens.
const unusedKubeconfig = `apiVersion: v1
kind: Config
clusters:
- cluster:
    server: http://127.0.0.1:1
  name: unused
contexts:
- context:
    cluster: unused
    user: unused
  name: unused
current-context: unused
users:
- name: unused
  user:
    token: unused
`

// startTimeout bounds etcd's start and the CRDs becoming established.
const startTimeout = 90 * time.Second

// Start starts etcd and the API server and installs the CRDs. Call Stop
// when done, also after an error.
func Start(log Logger) (*Server, error) {
	s := &Server{}
	dir, err := os.MkdirTemp("", "chaosmeshtest-")
	if err != nil {
		return s, err
	}
	s.dir = dir
	endpoint, err := s.startEtcd()
	if err != nil {
		return s, err
	}
	if err := s.startAPIServer(log, endpoint); err != nil {
		return s, err
	}
	if err := s.installCRDs(); err != nil {
		return s, err
	}
	return s, nil
}

// startAPIServer starts the API server in the test process, backed by
// the etcd at endpoint.
func (s *Server) startAPIServer(log Logger, endpoint string) error {
	// The server needs a kubeconfig for delegated authentication and
	// authorization at start; lookups are skipped, so it is never used.
	unused := filepath.Join(s.dir, "unused-kubeconfig")
	if err := os.WriteFile(unused, []byte(unusedKubeconfig), 0o600); err != nil {
		return err
	}
	srv, err := servertesting.StartTestServer(log, nil, apiServerFlags(endpoint, unused), nil)
	if err != nil {
		return fmt.Errorf("start API server: %w", err)
	}
	s.stop = srv.TearDownFn
	s.Config = rest.CopyConfig(srv.ClientConfig)
	return nil
}

// apiServerFlags are the API server's flags: loopback only, no delegated
// lookups and no admission plugins that need a full cluster.
func apiServerFlags(etcdEndpoint, unusedKubeconfigPath string) []string {
	return []string{
		"--etcd-servers", etcdEndpoint,
		"--etcd-prefix", "/chaosmeshtest",
		"--bind-address=127.0.0.1",
		"--authentication-skip-lookup",
		"--authentication-kubeconfig", unusedKubeconfigPath,
		"--authorization-kubeconfig", unusedKubeconfigPath,
		"--kubeconfig", unusedKubeconfigPath,
		"--enable-priority-and-fairness=false",
		"--disable-admission-plugins", "NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,MutatingAdmissionPolicy",
	}
}

// Stop stops the API server and etcd and removes their files.
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
	}
	if s.etcd != nil && s.etcd.Process != nil {
		_ = s.etcd.Process.Kill()
		<-s.exited
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// startEtcd runs etcd on two free loopback ports with a fresh data dir and
// waits until it serves. It returns the client URL.
func (s *Server) startEtcd() (string, error) {
	bin, err := exec.LookPath("etcd")
	if err != nil {
		return "", fmt.Errorf("etcd not found on PATH: install it (Debian: apt-get install etcd-server): %w", err)
	}
	clientPort, err := freePort()
	if err != nil {
		return "", err
	}
	peerPort, err := freePort()
	if err != nil {
		return "", err
	}
	client := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	var output bytes.Buffer
	if err := s.runEtcd(bin, client, "http://127.0.0.1:"+strconv.Itoa(peerPort), &output); err != nil {
		return "", err
	}
	if err := s.waitEtcdListening("127.0.0.1:"+strconv.Itoa(clientPort), &output); err != nil {
		return "", err
	}
	return client, nil
}

// runEtcd starts the etcd process with output going to output, and a
// goroutine that closes s.exited when it exits.
func (s *Server) runEtcd(bin, client, peer string, output *bytes.Buffer) error {
	cmd := exec.Command(bin,
		"--name", "chaosmeshtest",
		"--data-dir", filepath.Join(s.dir, "etcd"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "chaosmeshtest="+peer,
		"--log-level", "error",
	)
	cmd.Stdout, cmd.Stderr = output, output
	// etcd dies with the test process, also when a test panics.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	s.etcd = cmd
	s.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	return nil
}

// waitEtcdListening waits until etcd accepts connections on addr, for up
// to startTimeout. output is read only after etcd exited.
func (s *Server) waitEtcdListening(addr string, output *bytes.Buffer) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("etcd exited at start: %s", output.String())
		default:
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("etcd did not listen on %s within %s", addr, startTimeout)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// CRDDir returns the folder of Chaos Mesh's CRDs in the module cache,
// downloading the module when it is missing.
func CRDDir() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", ChaosMeshModule+"@"+ChaosMeshVersion)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w: %s", ChaosMeshModule, ChaosMeshVersion, err, stderr.String())
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", fmt.Errorf("read go mod download output: %w", err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", ChaosMeshModule, ChaosMeshVersion, info.Error)
	}
	return filepath.Join(info.Dir, "config", "crd", "bases"), nil
}

// installCRDs creates the CRDs and waits until each is established.
func (s *Server) installCRDs() error {
	dir, err := CRDDir()
	if err != nil {
		return err
	}
	client, err := apiextensionsclient.NewForConfig(s.Config)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for _, name := range CRDFiles {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("read CRD: %w", err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(data, &crd); err != nil {
			return fmt.Errorf("decode CRD %s: %w", name, err)
		}
		if _, err := client.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create CRD %s: %w", crd.Name, err)
		}
		err = wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			got, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, c := range got.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not established: %w", crd.Name, err)
		}
	}
	return nil
}

// WriteKubeconfig writes a kubeconfig for the server to path, with the
// given context name and namespace.
func (s *Server) WriteKubeconfig(path, contextName, namespace string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{
		Server:                   s.Config.Host,
		CertificateAuthorityData: s.Config.TLSClientConfig.CAData,
		TLSServerName:            s.Config.TLSClientConfig.ServerName,
		InsecureSkipTLSVerify:    s.Config.TLSClientConfig.Insecure,
	}
	cfg.AuthInfos["test"] = &clientcmdapi.AuthInfo{Token: s.Config.BearerToken}
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "test", Namespace: namespace}
	cfg.CurrentContext = contextName
	return clientcmd.WriteToFile(*cfg, path)
}
