package examples_test

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// chartDir is the Helm chart; the test renders it with the real helm (scripts/test.sh
// installs helm.sh/helm/v4's command when the machine has none).
const chartDir = "../deploy/helm/backstage-auth-go"

const testSessionSecret = "chart-test-session-secret-0123456789abcdef"

func helmBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	if p := filepath.Join(gopath, "bin", "helm"); gopath != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("helm is required in CI: go install helm.sh/helm/v4/cmd/helm@v4.3.2 (scripts/test.sh does)")
	}
	t.Skip("no helm binary (go install helm.sh/helm/v4/cmd/helm@v4.3.2) to render the chart")
	return ""
}

// helm runs helm with args and returns its output and error.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func render(t *testing.T, set ...string) []manifest {
	t.Helper()
	args := []string{"template", "auth", chartDir}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm template %v: %v\n%s", set, err, out)
	}
	return decodeManifests(t, "helm template", []byte(out))
}

func named(t *testing.T, ms []manifest, kind, name string) manifest {
	t.Helper()
	for _, m := range ms {
		if m.Kind == kind && m.Metadata.Name == name {
			return m
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return manifest{}
}

func TestHelmChartLints(t *testing.T) {
	if out, err := helm(t, "lint", "--strict", chartDir, "--set", "sessionSecret.value="+testSessionSecret); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
}

func TestHelmChartDefaults(t *testing.T) {
	ms := render(t, "sessionSecret.value="+testSessionSecret)
	checkKinds(t, ms, "ConfigMap,Deployment,PodDisruptionBudget,Secret,Service,Service")
	w := checkWorkload(t, ms)
	checkReplicated(t, ms, w)

	// The session secret: created by the chart and read by the container.
	sec := named(t, ms, "Secret", "auth-backstage-auth-go")
	if v, _ := base64.StdEncoding.DecodeString(sec.Data["session-secret"]); string(v) != testSessionSecret {
		t.Errorf("Secret session-secret = %q", v)
	}
	ref := envSecretRef(w.c, "AUTH_SESSION_SECRET")
	if ref == nil || ref.name != sec.Metadata.Name || ref.key != "session-secret" {
		t.Errorf("AUTH_SESSION_SECRET comes from %+v, want the chart's Secret", ref)
	}

	// Metrics: on their own port, served by a headless Service of their own and
	// never by the public one.
	_, port, _ := strings.Cut(w.cfg.Ops.MetricsListen, ":")
	metricsPort, _ := strconv.Atoi(port)
	if metricsPort == 0 || metricsPort == w.cfg.Backend.Listen.Port {
		t.Fatalf("authbackend.metrics.listen = %q", w.cfg.Ops.MetricsListen)
	}
	var pub serviceSpec
	decodeSpec(t, publicService(t, ms), &pub)
	for _, p := range pub.Ports {
		if resolvePort(t, p.TargetPort, w.c) == metricsPort {
			t.Errorf("the public Service exposes the metrics port")
		}
	}
	msvc := named(t, ms, "Service", "auth-backstage-auth-go-metrics")
	var ms2 struct {
		ClusterIP string            `yaml:"clusterIP"`
		Selector  map[string]string `yaml:"selector"`
		Ports     []struct {
			Name       string    `yaml:"name"`
			TargetPort yaml.Node `yaml:"targetPort"`
		} `yaml:"ports"`
	}
	decodeSpec(t, msvc, &ms2)
	if !subset(ms2.Selector, w.pods) || len(ms2.Ports) != 1 || ms2.Ports[0].Name != "metrics" ||
		resolvePort(t, ms2.Ports[0].TargetPort, w.c) != metricsPort || ms2.ClusterIP != "None" {
		t.Errorf("metrics Service = %+v", ms2)
	}

	// Kubernetes waits long enough for the whole drain.
	var pod struct {
		Template struct {
			Spec struct {
				TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
			} `yaml:"spec"`
		} `yaml:"template"`
	}
	decodeSpec(t, only(t, ms, "Deployment"), &pod)
	need := w.cfg.Ops.ShutdownDelay + w.cfg.Ops.ShutdownGracePeriod
	if got := time.Duration(pod.Template.Spec.TerminationGracePeriodSeconds) * time.Second; got <= need {
		t.Errorf("terminationGracePeriodSeconds %s, the drain takes up to %s", got, need)
	}
}

func TestHelmChartOptions(t *testing.T) {
	ms := render(t, "sessionSecret.existingSecret=my-auth", "sessionSecret.key=secret",
		"metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.labels.release=prom",
		"networkPolicy.enabled=true", "tracing.endpoint=http://otel-collector:4318", "shutdown.delay=10s", "shutdown.gracePeriod=1m")
	checkKinds(t, ms, "ConfigMap,Deployment,NetworkPolicy,PodDisruptionBudget,Service,Service,ServiceMonitor")
	w := checkWorkload(t, ms)
	if ref := envSecretRef(w.c, "AUTH_SESSION_SECRET"); ref == nil || ref.name != "my-auth" || ref.key != "secret" {
		t.Errorf("AUTH_SESSION_SECRET from %+v, want my-auth/secret", ref)
	}
	if w.cfg.Ops.ShutdownDelay != 10*time.Second || w.cfg.Ops.ShutdownGracePeriod != time.Minute {
		t.Errorf("shutdown %s / %s", w.cfg.Ops.ShutdownDelay, w.cfg.Ops.ShutdownGracePeriod)
	}
	if v := envValue(w.c, "OTEL_EXPORTER_OTLP_ENDPOINT"); v != "http://otel-collector:4318" {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT = %q", v)
	}

	var sm struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Endpoints []struct {
			Port string `yaml:"port"`
			Path string `yaml:"path"`
		} `yaml:"endpoints"`
	}
	mon := only(t, ms, "ServiceMonitor")
	decodeSpec(t, mon, &sm)
	if mon.Metadata.Labels["release"] != "prom" {
		t.Errorf("ServiceMonitor labels %v", mon.Metadata.Labels)
	}
	msvc := named(t, ms, "Service", "auth-backstage-auth-go-metrics")
	pub := publicService(t, ms)
	if !subset(sm.Selector.MatchLabels, msvc.Metadata.Labels) || subset(sm.Selector.MatchLabels, pub.Metadata.Labels) {
		t.Errorf("ServiceMonitor selector %v must pick the metrics Service only", sm.Selector.MatchLabels)
	}
	if len(sm.Endpoints) != 1 || sm.Endpoints[0].Port != "metrics" || sm.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %+v", sm.Endpoints)
	}

	var np struct {
		PodSelector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"podSelector"`
		PolicyTypes []string `yaml:"policyTypes"`
		Ingress     []struct {
			Ports []struct {
				Port yaml.Node `yaml:"port"`
			} `yaml:"ports"`
			From []map[string]any `yaml:"from"`
		} `yaml:"ingress"`
	}
	decodeSpec(t, only(t, ms, "NetworkPolicy"), &np)
	if !subset(np.PodSelector.MatchLabels, w.pods) || strings.Join(np.PolicyTypes, ",") != "Ingress,Egress" {
		t.Errorf("NetworkPolicy %+v", np)
	}
	var ports []string
	for _, in := range np.Ingress {
		if len(in.From) == 0 {
			t.Error("a NetworkPolicy ingress rule admits every source")
		}
		for _, p := range in.Ports {
			ports = append(ports, p.Port.Value)
		}
	}
	if strings.Join(ports, ",") != "http,metrics" {
		t.Errorf("NetworkPolicy ingress ports %v", ports)
	}
}

// The chart refuses what cannot work: no session secret, or several replicas on SQLite.
func TestHelmChartRefuses(t *testing.T) {
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{nil, "sessionSecret.value must be at least 32 characters"},
		{[]string{"sessionSecret.value=short"}, "sessionSecret.value must be at least 32 characters"},
		{[]string{"sessionSecret.value=" + testSessionSecret, "appConfig.backend.database.client=better-sqlite3"}, "more than one replica needs appConfig.backend.database.client: pg"},
		{[]string{"sessionSecret.value=" + testSessionSecret, "shutdown.delay=5 seconds"}, "shutdown durations must be written as"},
	} {
		args := []string{"template", "auth", chartDir}
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		out, err := helm(t, args...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("helm template %v: %v\n%s", tc.set, err, out)
		}
	}
	// One replica on SQLite is fine.
	render(t, "sessionSecret.value="+testSessionSecret, "replicaCount=1", "appConfig.backend.database.client=better-sqlite3",
		"podDisruptionBudget.enabled=false")
}

type secretRef struct{ name, key string }

func envSecretRef(c container, name string) *secretRef {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return &secretRef{e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key}
		}
	}
	return nil
}

func envValue(c container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}
