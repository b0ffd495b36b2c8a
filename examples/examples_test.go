package examples_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
)

// The health routes every Backstage backend serves on its root app (BACKSTAGE_AUTH.md
// section 1); the e2e tests wait on the same paths of the real server.
const (
	readinessPath = "/.backstage/health/v1/readiness"
	livenessPath  = "/.backstage/health/v1/liveness"
	configPath    = "/app/app-config.yaml"
)

// Just enough of the Kubernetes schema to check what the examples promise.
type manifest struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   objectMeta        `yaml:"metadata"`
	Data       map[string]string `yaml:"data"` // ConfigMap
	Spec       yaml.Node         `yaml:"spec"`
	file       string
}

type objectMeta struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
}

type deploymentSpec struct {
	Replicas *int `yaml:"replicas"`
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Template struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     podSpec    `yaml:"spec"`
	} `yaml:"template"`
}

type podSpec struct {
	SecurityContext *securityContext `yaml:"securityContext"`
	Containers      []container      `yaml:"containers"`
	Volumes         []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name  string `yaml:"name"`
			Items []struct {
				Key  string `yaml:"key"`
				Path string `yaml:"path"`
			} `yaml:"items"`
		} `yaml:"configMap"`
	} `yaml:"volumes"`
}

type securityContext struct {
	RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
	RunAsUser                *int64 `yaml:"runAsUser"`
	AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
	Capabilities             *struct {
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Ports   []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	ReadinessProbe  *probe           `yaml:"readinessProbe"`
	LivenessProbe   *probe           `yaml:"livenessProbe"`
	SecurityContext *securityContext `yaml:"securityContext"`
	VolumeMounts    []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet *struct {
		Path string    `yaml:"path"`
		Port yaml.Node `yaml:"port"` // a number or a port name
	} `yaml:"httpGet"`
}

type serviceSpec struct {
	Selector map[string]string `yaml:"selector"`
	Ports    []struct {
		Name       string    `yaml:"name"`
		Port       int       `yaml:"port"`
		TargetPort yaml.Node `yaml:"targetPort"`
	} `yaml:"ports"`
}

// loadManifests decodes every YAML document of every file in examples/kubernetes.
func loadManifests(t *testing.T) []manifest {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("kubernetes", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no manifests in examples/kubernetes")
	}
	var out []manifest
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for i := 0; ; i++ {
			var m manifest
			err := dec.Decode(&m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			if m.Kind == "" || m.APIVersion == "" || m.Metadata.Name == "" {
				t.Fatalf("%s document %d: missing kind, apiVersion or metadata.name", f, i)
			}
			m.file = f
			out = append(out, m)
		}
	}
	return out
}

func decodeSpec(t *testing.T, m manifest, into any) {
	t.Helper()
	if err := m.Spec.Decode(into); err != nil {
		t.Fatalf("%s %s/%s: spec: %v", m.file, m.Kind, m.Metadata.Name, err)
	}
}

// only returns the single manifest of a kind.
func only(t *testing.T, ms []manifest, kind string) manifest {
	t.Helper()
	var found []manifest
	for _, m := range ms {
		if m.Kind == kind {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s, found %d", kind, len(found))
	}
	return found[0]
}

// subset reports whether every label of sel is in labels with the same value.
func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false // an empty selector selects everything: never what we mean
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// resolvePort turns a probe or Service port (number or name) into a container port.
func resolvePort(t *testing.T, n yaml.Node, c container) int {
	t.Helper()
	if n.Kind != yaml.ScalarNode {
		t.Fatalf("port is not a scalar")
	}
	if p, err := strconv.Atoi(n.Value); err == nil {
		return p
	}
	for _, p := range c.Ports {
		if p.Name == n.Value {
			return p.ContainerPort
		}
	}
	t.Fatalf("port name %q is not declared by container %s", n.Value, c.Name)
	return 0
}

// mebibytes parses the Kubernetes memory quantities the examples use (Mi, Gi, M, G, plain bytes).
func mebibytes(t *testing.T, q string) float64 {
	t.Helper()
	units := []struct {
		suffix string
		mul    float64
	}{{"Ki", 1.0 / 1024}, {"Mi", 1}, {"Gi", 1024}, {"k", 1000.0 / (1 << 20)}, {"M", 1e6 / (1 << 20)}, {"G", 1e9 / (1 << 20)}}
	for _, u := range units {
		if strings.HasSuffix(q, u.suffix) {
			v, err := strconv.ParseFloat(strings.TrimSuffix(q, u.suffix), 64)
			if err != nil {
				t.Fatalf("memory quantity %q: %v", q, err)
			}
			return v * u.mul
		}
	}
	v, err := strconv.ParseFloat(q, 64)
	if err != nil {
		t.Fatalf("memory quantity %q: %v", q, err)
	}
	return v / (1 << 20)
}

func TestKubernetesManifests(t *testing.T) {
	ms := loadManifests(t)

	var kinds []string
	for _, m := range ms {
		kinds = append(kinds, m.Kind)
	}
	sort.Strings(kinds)
	if got, want := strings.Join(kinds, ","), "ConfigMap,Deployment,Service"; got != want {
		t.Fatalf("kinds = %s, want %s", got, want)
	}

	cm := only(t, ms, "ConfigMap")
	dep := only(t, ms, "Deployment")
	svc := only(t, ms, "Service")
	var ds deploymentSpec
	decodeSpec(t, dep, &ds)
	var ss serviceSpec
	decodeSpec(t, svc, &ss)

	if got := dep.APIVersion; got != "apps/v1" {
		t.Errorf("Deployment apiVersion = %q, want apps/v1", got)
	}
	podLabels := ds.Template.Metadata.Labels
	if !subset(ds.Selector.MatchLabels, podLabels) {
		t.Errorf("Deployment selector %v does not match pod labels %v", ds.Selector.MatchLabels, podLabels)
	}
	if !subset(ss.Selector, podLabels) {
		t.Errorf("Service selector %v does not match pod labels %v", ss.Selector, podLabels)
	}

	if len(ds.Template.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(ds.Template.Spec.Containers))
	}
	c := ds.Template.Spec.Containers[0]

	// The container runs `authbackend --config /app/app-config.yaml`, with the binary
	// where the Dockerfile puts it, as the Dockerfile's user.
	if len(c.Command) != 1 || filepath.Base(c.Command[0]) != "authbackend" {
		t.Errorf("container command %q, want the authbackend binary", c.Command)
	}
	if args := strings.Join(c.Args, " "); args != "--config "+configPath {
		t.Errorf("container args %q, want %q", args, "--config "+configPath)
	}
	if !strings.Contains(c.Image, "backstage-auth-go") {
		t.Errorf("image %q is not this project's", c.Image)
	}
	entrypoint, uid := dockerfileFacts(t)
	if len(c.Command) == 1 && c.Command[0] != entrypoint {
		t.Errorf("container command %q, the Dockerfile's ENTRYPOINT is %q", c.Command[0], entrypoint)
	}
	if pod := ds.Template.Spec.SecurityContext; pod == nil || pod.RunAsUser == nil || *pod.RunAsUser != uid {
		t.Errorf("pod runAsUser is not the Dockerfile's USER %d", uid)
	}

	// /app/app-config.yaml is the ConfigMap's app-config.yaml.
	cfgText := mountedConfig(t, ds.Template.Spec, c, cm)

	// The config it gets parses with our loader; the secrets it references come from
	// the Secret through env vars, and nothing else is needed from the environment.
	secretEnv := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			if e.ValueFrom.SecretKeyRef.Name == "" || e.ValueFrom.SecretKeyRef.Key == "" {
				t.Errorf("env %s: secretKeyRef without name or key", e.Name)
			}
			secretEnv[e.Name] = "from-secret-" + strings.ToLower(e.Name) + "-0123456789abcdef"
		}
	}
	for _, ref := range regexp.MustCompile(`\$\{([A-Za-z0-9_]+)`).FindAllStringSubmatch(cfgText, -1) {
		if _, ok := secretEnv[ref[1]]; !ok {
			t.Errorf("app-config references ${%s}, which no secretKeyRef env var provides", ref[1])
		}
	}
	cfg := loadConfig(t, []string{writeTemp(t, "app-config.yaml", cfgText)}, secretEnv)
	if got, want := cfg.Auth.SessionSecret, secretEnv["AUTH_SESSION_SECRET"]; got == "" || got != want {
		t.Errorf("auth.session.secret = %q, want it from the Secret (%q)", got, want)
	}
	if cfg.Backend.Database.Client != "pg" {
		t.Errorf("backend.database.client = %q, want pg (several replicas share keys)", cfg.Backend.Database.Client)
	}
	if got := cfg.Backend.Database.Connection.Password; got == "" || got != secretEnv["POSTGRES_PASSWORD"] {
		t.Errorf("database password = %q, want it from the Secret", got)
	}
	if h := cfg.Backend.Listen.Host; h != "0.0.0.0" && h != "" && h != "::" {
		t.Errorf("backend.listen.host = %q: the kubelet probes the pod IP, listen on all interfaces", h)
	}
	listenPort := cfg.Backend.Listen.Port

	// Probes hit the server's health routes on its listen port.
	for _, p := range []struct {
		name, path string
		probe      *probe
	}{{"readinessProbe", readinessPath, c.ReadinessProbe}, {"livenessProbe", livenessPath, c.LivenessProbe}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: missing httpGet probe", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s path = %q, want %q", p.name, p.probe.HTTPGet.Path, p.path)
		}
		if got := resolvePort(t, p.probe.HTTPGet.Port, c); got != listenPort {
			t.Errorf("%s port = %d, server listens on %d", p.name, got, listenPort)
		}
	}
	if len(ss.Ports) == 0 {
		t.Fatal("Service has no ports")
	}
	for _, p := range ss.Ports {
		if got := resolvePort(t, p.TargetPort, c); got != listenPort {
			t.Errorf("Service port %s targets %d, server listens on %d", p.Name, got, listenPort)
		}
	}

	// Non-root, no privilege escalation.
	pod := ds.Template.Spec.SecurityContext
	cs := c.SecurityContext
	nonRoot := (pod != nil && pod.RunAsNonRoot != nil && *pod.RunAsNonRoot) || (cs != nil && cs.RunAsNonRoot != nil && *cs.RunAsNonRoot)
	if !nonRoot {
		t.Error("runAsNonRoot is not set")
	}
	for _, sc := range []*securityContext{pod, cs} {
		if sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			t.Error("runAsUser is 0")
		}
	}
	if cs == nil || cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation {
		t.Error("container allowPrivilegeEscalation is not false")
	}
	if cs == nil || cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem {
		t.Error("container readOnlyRootFilesystem is not true")
	}
	if cs == nil || cs.Capabilities == nil || !contains(cs.Capabilities.Drop, "ALL") {
		t.Error("container does not drop ALL capabilities")
	}

	// Sized for a ~20 MiB process: requests at least that, a limit with headroom but
	// not a Node-sized one.
	req, lim := c.Resources.Requests["memory"], c.Resources.Limits["memory"]
	if req == "" || lim == "" {
		t.Fatalf("memory request/limit missing: %q / %q", req, lim)
	}
	if r, l := mebibytes(t, req), mebibytes(t, lim); r < 20 || l < r || l > 256 {
		t.Errorf("memory request %s / limit %s: want request >= 20Mi, limit >= request and <= 256Mi", req, lim)
	}
	if c.Resources.Requests["cpu"] == "" {
		t.Error("cpu request missing")
	}
}

// mountedConfig checks that configPath is provided by cm and returns its text.
func mountedConfig(t *testing.T, pod podSpec, c container, cm manifest) string {
	t.Helper()
	dir, file := filepath.Split(configPath)
	for _, vm := range c.VolumeMounts {
		var key string
		switch {
		case vm.MountPath == configPath && vm.SubPath != "":
			key = vm.SubPath
		case filepath.Clean(vm.MountPath) == filepath.Clean(dir) && vm.SubPath == "":
			key = file
		default:
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != vm.Name || v.ConfigMap == nil {
				continue
			}
			if v.ConfigMap.Name != cm.Metadata.Name {
				t.Fatalf("volume %s mounts ConfigMap %q, the manifests define %q", v.Name, v.ConfigMap.Name, cm.Metadata.Name)
			}
			if vm.SubPath == "" {
				for _, it := range v.ConfigMap.Items {
					if it.Path == file {
						key = it.Key
					}
				}
			}
			text, ok := cm.Data[key]
			if !ok {
				t.Fatalf("ConfigMap %s has no key %q", cm.Metadata.Name, key)
			}
			return text
		}
	}
	t.Fatalf("no ConfigMap volume provides %s", configPath)
	return ""
}

// dockerfileFacts reads the image's ENTRYPOINT binary and USER uid from ../Dockerfile.
func dockerfileFacts(t *testing.T) (entrypoint string, uid int64) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	ep := regexp.MustCompile(`(?m)^ENTRYPOINT \["([^"]+)"`).FindSubmatch(raw)
	us := regexp.MustCompile(`(?m)^USER (\d+)`).FindAllSubmatch(raw, -1)
	if ep == nil || len(us) == 0 {
		t.Fatal("Dockerfile has no exec-form ENTRYPOINT or numeric USER")
	}
	uid, err = strconv.ParseInt(string(us[len(us)-1][1]), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return string(ep[1]), uid
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func writeTemp(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadConfig runs our config loader with exactly env as the environment.
func loadConfig(t *testing.T, files []string, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(config.LoadOptions{
		ConfigPaths: files,
		WorkDir:     t.TempDir(),
		LookupEnv: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
		Environ: []string{},
	})
	if err != nil {
		t.Fatalf("config.Load(%v): %v", files, err)
	}
	return cfg
}

// TestExampleAppConfigsParse: every example app-config is valid YAML with a mapping at
// the top, and the discovery example gives both sides what they need.
func TestExampleAppConfigsParse(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no example app-configs")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Errorf("%s: %v", f, err)
		} else if len(doc) == 0 {
			t.Errorf("%s: empty", f)
		}
	}

	// Loaded by our server on top of a base config, the discovery example points the
	// issuer at the public origin and finds the catalog remotely.
	base := writeTemp(t, "base.yaml", "app:\n  baseUrl: https://backstage.example.com\nbackend:\n  baseUrl: https://backstage.example.com\n")
	disc, err := filepath.Abs("app-config.discovery.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, []string{base, disc}, map[string]string{})
	byPlugin := map[string]config.DiscoveryEndpoint{}
	for _, e := range cfg.Discovery.Endpoints {
		for _, p := range e.Plugins {
			byPlugin[p] = e
		}
	}
	for _, p := range []string{"auth", "catalog"} {
		e, ok := byPlugin[p]
		if !ok {
			t.Errorf("discovery example has no entry for %s", p)
			continue
		}
		if e.Internal == "" || e.External == "" {
			t.Errorf("discovery entry for %s: internal %q, external %q: both sides need both", p, e.Internal, e.External)
		}
		if !strings.HasPrefix(e.External, "https://backstage.example.com/") {
			t.Errorf("discovery entry for %s: external %q is not the public origin", p, e.External)
		}
	}
}

// TestNginxExample: the route the README and the e2e test rely on.
func TestNginxExample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("nginx", "backstage-auth.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)
	for _, re := range []string{
		`(?s)upstream backstage_auth \{\s*server [^;]+;`,
		`(?s)upstream backstage_backend \{\s*server [^;]+;`,
		`(?s)upstream backstage_app \{\s*server [^;]+;`,
		`(?m)^\s*listen [^;]+;`,
		`(?s)location /api/auth/ \{\s*proxy_pass http://backstage_auth;\s*\}`,
		`(?s)location /api/ \{\s*proxy_pass http://backstage_backend;\s*\}`,
		`(?s)location / \{\s*proxy_pass http://backstage_app;\s*\}`,
	} {
		if !regexp.MustCompile(re).MatchString(conf) {
			t.Errorf("nginx example does not match %s", re)
		}
	}
	// Balanced braces: a cheap syntax check (the e2e test runs the real nginx on it).
	if strings.Count(conf, "{") != strings.Count(conf, "}") {
		t.Error("unbalanced braces in nginx example")
	}
}
