package setup

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func testShipTo(t *testing.T) *ShipTo {
	return &ShipTo{URL: "http://vlogs:9428", Cluster: "prod", Node: "master-1", LogPath: DefaultLogPath,
		StorageDir: DefaultShipStorage, Path: DefaultShipConfig, Root: t.TempDir()}
}

func TestShipToConfig(t *testing.T) {
	s := testShipTo(t)
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(s.Config()), &cfg); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, s.Config())
	}
	for _, want := range []string{
		`include: ["/var/log/kubernetes/audit/audit.log", "/var/log/kubernetes/audit/audit-*.log"]`,
		`storage: file_storage/kauditui`,
		`directory: "/var/lib/otelcol/kauditui"`,
		`cluster: "prod"`, `node: "master-1"`,
		`parse_from: attributes.stageTimestamp`,
		`logs_endpoint: "http://vlogs:9428/insert/opentelemetry/v1/logs"`,
		`VL-Stream-Fields: cluster,node`,
		// the store's limits that lose events without a word to the sender
		`#   -insert.maxLineSizeBytes=2MiB`, `#   -insert.maxFieldsPerLine=2000`, `#   -retentionPeriod=1y`, `no event over 2 MB is ever kept`,
		// nothing dropped in silence by the collector
		`block_on_overflow: true`, `max_elapsed_time: 0`, `max_log_size: 2MiB`, `on_error: send`,
		// the bodies stay in the line only
		`field: attributes.requestObject`, `field: attributes.responseObject`,
	} {
		if !strings.Contains(s.Config(), want) {
			t.Errorf("the config lacks %s:\n%s", want, s.Config())
		}
	}
	// The collector this repository builds (hack/otelcol) accepts it.
	home, _ := os.UserHomeDir()
	otelcol := filepath.Join(home, ".cache", "kauditui", "otelcol-v0.165.0", "otelcol")
	if _, err := os.Stat(otelcol); err != nil {
		t.Logf("no collector at %s (hack/vlogs-e2e.sh --build makes it): not validated by it", otelcol)
		return
	}
	f := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(f, []byte(s.Config()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(otelcol, "validate", "--config", f).CombinedOutput(); err != nil {
		t.Errorf("the collector refuses the config: %v\n%s", err, out)
	}
}

func TestShipToChecks(t *testing.T) {
	for _, c := range []struct {
		change func(*ShipTo)
		want   string
	}{
		{func(s *ShipTo) { s.URL = "vlogs:9428" }, "is not a URL"},
		{func(s *ShipTo) { s.URL = "http://u:p@vlogs:9428" }, "keep the password out of the URL"},
		{func(s *ShipTo) { s.Cluster = "a b" }, "--cluster"},
		{func(s *ShipTo) { s.Node = "" }, "--node-name"},
		{func(s *ShipTo) { s.LogPath = "audit.log" }, "--log-path"},
		{func(s *ShipTo) { s.StorageDir = "/x\"y" }, "--ship-storage"},
	} {
		s := testShipTo(t)
		c.change(s)
		var out bytes.Buffer
		err := RunShipTo(s, false, &out)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") || out.Len() != 0 {
			t.Errorf("want one line naming %s, got %v (printed %q)", c.want, err, out.String())
		}
	}
}

func TestShipToWrites(t *testing.T) {
	s := testShipTo(t)
	var out bytes.Buffer
	if err := RunShipTo(s, true, &out); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(s.Root, s.Path)
	b, err := os.ReadFile(dst)
	if err != nil || string(b) != s.Config() {
		t.Fatalf("wrote %q, %v", b, err)
	}
	if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	if !strings.Contains(out.String(), "otelcol-contrib --config "+s.Path) {
		t.Errorf("does not say how to run it: %q", out.String())
	}
	if !strings.Contains(out.String(), "start the store with -retentionPeriod=1y -insert.maxLineSizeBytes=2MiB -insert.maxFieldsPerLine=2000,") {
		t.Errorf("does not say which store limits to raise: %q", out.String())
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), ".kauditui-ship-*"))
	if len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
