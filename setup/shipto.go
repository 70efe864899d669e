package setup

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ShipTo is what `kauditui setup --ship-to URL` needs to write the
// OpenTelemetry Collector config that ships this master's audit log to a
// VictoriaLogs store.
type ShipTo struct {
	URL        string // VictoriaLogs: http(s)://host:9428 (a front node in cluster mode)
	Cluster    string // value of the cluster stream field
	Node       string // value of the node stream field
	LogPath    string // the audit log file the apiserver writes
	StorageDir string // where the collector keeps its offsets (checkpoint)
	Root       string // filesystem root for Path
	Path       string // where --yes writes the config
}

// DefaultShipConfig is where --ship-to --yes writes the collector config:
// the directory the otelcol-contrib packages read (--config takes it too).
const DefaultShipConfig = "/etc/otelcol-contrib/kauditui-audit.yaml"

// DefaultShipStorage is where the collector keeps how far it has read.
const DefaultShipStorage = "/var/lib/otelcol/kauditui"

var streamValue = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$`)

// Check says in one line what is wrong with the options.
func (s *ShipTo) Check() error {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--ship-to %q is not a URL: give the VictoriaLogs address, like http://victorialogs:9428", s.URL)
	}
	if u.User != nil {
		return fmt.Errorf("--ship-to: keep the password out of the URL (it would be written into the config): add an Authorization header to the exporter, from a file only root reads")
	}
	for name, v := range map[string]string{"--cluster": s.Cluster, "--node-name": s.Node} {
		if !streamValue.MatchString(v) {
			return fmt.Errorf("%s %q: give a name of letters, digits, '.', '_' and '-' (it becomes a stream field of every event)", name, v)
		}
	}
	for name, p := range map[string]string{"--log-path": s.LogPath, "--ship-storage": s.StorageDir, "--ship-config": s.Path} {
		if !path.IsAbs(p) || strings.ContainsAny(p, "\n\r\"'\\") {
			return fmt.Errorf("%s %q: give an absolute path without quotes or backslashes", name, p)
		}
	}
	return nil
}

// config is the collector config. The audit log and its rotated backups are
// followed by the filelog receiver (a rename rotation keeps the file's
// fingerprint, so nothing is read twice), its offsets kept in file_storage,
// each line parsed as JSON into attributes while the body stays the line
// itself (kauditui reads that back as _msg), stageTimestamp as the time.
func (s *ShipTo) Config() string {
	u, _ := url.Parse(s.URL)
	endpoint := strings.TrimSuffix(u.String(), "/") + "/insert/opentelemetry/v1/logs"
	dir := path.Dir(s.LogPath)
	base := path.Base(s.LogPath)
	ext := path.Ext(base)
	// lumberjack's backups: audit-2026-11-26T03-57-52.935.log (gzipped ones are skipped: they were read before).
	backups := path.Join(dir, strings.TrimSuffix(base, ext)+"-*"+ext)
	q := strconv.Quote
	return fmt.Sprintf(`# OpenTelemetry Collector config written by kauditui setup --ship-to: ships this
# master's kube-apiserver audit log to VictoriaLogs, where kauditui --store reads it.
# Run it with otelcol-contrib (filelog receiver, file_storage, otlphttp exporter):
#   otelcol-contrib --config %[1]s
extensions:
  file_storage/kauditui:
    directory: %[2]s
    create_directory: true
receivers:
  filelog/kauditui:
    include: [%[3]s, %[4]s]
    start_at: beginning
    storage: file_storage/kauditui
    poll_interval: 250ms
    max_log_size: 64MiB
    include_file_name: false
    resource:
      cluster: %[5]s
      node: %[6]s
    operators:
      - type: json_parser
        timestamp:
          parse_from: attributes.stageTimestamp
          layout_type: gotime
          layout: "2006-01-02T15:04:05.999999999Z07:00"
exporters:
  otlphttp/victorialogs:
    logs_endpoint: %[7]s
    headers:
      VL-Stream-Fields: cluster,node
    sending_queue:
      storage: file_storage/kauditui
service:
  extensions: [file_storage/kauditui]
  pipelines:
    logs/kauditui:
      receivers: [filelog/kauditui]
      exporters: [otlphttp/victorialogs]
`, s.Path, q(s.StorageDir), q(s.LogPath), q(backups), q(s.Cluster), q(s.Node), q(endpoint))
}

// RunShipTo prints the config, or with write set writes it (mode 0644, no
// secrets in it) and says how to run the collector.
func RunShipTo(s *ShipTo, write bool, out io.Writer) error {
	if err := s.Check(); err != nil {
		return err
	}
	cfg := s.Config()
	if !write {
		_, err := io.WriteString(out, cfg)
		return err
	}
	dst := inRoot(s.Root, s.Path)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("--ship-config: %v", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".kauditui-ship-*")
	if err != nil {
		return fmt.Errorf("--ship-config: %v", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(cfg); err != nil {
		tmp.Close()
		return fmt.Errorf("--ship-config: %v", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("--ship-config: %v", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--ship-config: %v", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("--ship-config: %v", err)
	}
	fmt.Fprintf(out, "wrote %s: run otelcol-contrib --config %s (events go to %s as cluster=%s node=%s)\n", dst, s.Path, s.URL, s.Cluster, s.Node)
	return nil
}
