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

// StoreLimits says what the VictoriaLogs store must allow for the audit
// events shipped to it: each item a flag of victoria-logs and why. Its own
// defaults lose events without a word to the sender, only in its log and
// counters.
var StoreLimits = []string{
	"-retentionPeriod=1y, or longer than the age of the oldest log shipped (default 7d: older events are dropped as they arrive)",
	"-insert.maxLineSizeBytes=2MiB (default 256KiB: a longer line sent to /insert/jsonline, as hack/vlogs-load, Vector or Fluent Bit do, is skipped with the rest of its batch; OTLP is not bound by it)",
	"-insert.maxFieldsPerLine=2000 (default 1000: an event with more fields is dropped)",
	"no event over 2 MB is ever kept (VictoriaLogs' entry limit, not a flag): the collector cuts such lines and logs each (\"Failed to process entry\")",
}

// config is the collector config. The audit log and its rotated backups are
// followed by the filelog receiver (a rename rotation keeps the file's
// fingerprint, so nothing is read twice), its offsets kept in file_storage,
// each line parsed as JSON into attributes while the body stays the line
// itself (kauditui reads that back as _msg), stageTimestamp as the time. The
// request and response bodies are removed from the attributes (they stay in
// the line): flattened by the store they would double an event's size and
// can pass its limit on fields. Nothing is dropped in silence: the queue
// waits for room, a store that does not answer is retried without end, and
// what the collector cannot send or parse it logs as an error.
func (s *ShipTo) Config() string {
	u, _ := url.Parse(s.URL)
	endpoint := strings.TrimSuffix(u.String(), "/") + "/insert/opentelemetry/v1/logs"
	dir := path.Dir(s.LogPath)
	base := path.Base(s.LogPath)
	ext := path.Ext(base)
	// lumberjack's backups: audit-2026-11-26T03-57-52.935.log (gzipped ones are skipped: they were read before).
	backups := path.Join(dir, strings.TrimSuffix(base, ext)+"-*"+ext)
	q := strconv.Quote
	var limits strings.Builder
	for _, l := range StoreLimits {
		limits.WriteString("#   " + l + "\n")
	}
	return fmt.Sprintf(`# OpenTelemetry Collector config written by kauditui setup --ship-to: ships this
# master's kube-apiserver audit log to VictoriaLogs, where kauditui --store reads it.
# Run it with otelcol-contrib (filelog receiver, file_storage, otlphttp exporter):
#   otelcol-contrib --config %[1]s
# Start the store (victoria-logs) with limits that keep every audit event:
%[8]s# kauditui --store warns when the store's counters show it skipped or dropped events.
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
    max_log_size: 2MiB
    max_log_size_behavior: truncate
    include_file_name: false
    resource:
      cluster: %[5]s
      node: %[6]s
    operators:
      - type: json_parser
        on_error: send
        timestamp:
          parse_from: attributes.stageTimestamp
          layout_type: gotime
          layout: "2006-01-02T15:04:05.999999999Z07:00"
      - type: remove
        if: attributes.requestObject != nil
        field: attributes.requestObject
      - type: remove
        if: attributes.responseObject != nil
        field: attributes.responseObject
exporters:
  otlphttp/victorialogs:
    logs_endpoint: %[7]s
    headers:
      VL-Stream-Fields: cluster,node
    retry_on_failure:
      enabled: true
      max_elapsed_time: 0
    sending_queue:
      storage: file_storage/kauditui
      block_on_overflow: true
service:
  extensions: [file_storage/kauditui]
  pipelines:
    logs/kauditui:
      receivers: [filelog/kauditui]
      exporters: [otlphttp/victorialogs]
`, s.Path, q(s.StorageDir), q(s.LogPath), q(backups), q(s.Cluster), q(s.Node), q(endpoint), limits.String())
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
	fmt.Fprintf(out, "start the store with %s, or it drops events without a word (the config's first lines say why)\n", strings.Join(storeFlags(), " "))
	return nil
}

// storeFlags are the flags of StoreLimits alone.
func storeFlags() []string {
	var out []string
	for _, l := range StoreLimits {
		if f, _, ok := strings.Cut(l, " "); ok && strings.HasPrefix(f, "-") {
			f = strings.TrimSuffix(f, ",")
			out = append(out, f)
		}
	}
	return out
}
