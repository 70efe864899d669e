package ui

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
)

// Export (ctrl+s, and w on Detail): what the page in front shows, to a file
// the user names at a prompt. The default is a file in Options.OutDir (the
// home folder), never the current folder, which on a master can be the
// kubelet's static pod folder; a path there is refused. The file is
// written whole or not at all (a temporary file renamed), mode 0600.

// exporter is a page or screen that can export what it shows; nil: nothing.
type exporter interface {
	export() *exportJob
}

// exportJob is one export on offer: what it is, a default file name, and
// the formats, chosen by the extension typed.
type exportJob struct {
	what    string // "143 requests", sanitised
	base    string // the default file name, without extension
	formats []exportFormat
}

// exportFormat writes the export in one format. build runs off the UI
// goroutine; it reads requests under the store's lock itself.
type exportFormat struct {
	exts  []string // the first is the default file's
	name  string   // "JSON lines", "CSV", "text", "YAML"
	build func() ([]byte, error)
}

// openExportMsg asks the root to open the export prompt for what is in
// front (Detail's w).
type openExportMsg struct{}

// exportPrompt is the root's "export to:" line, drawn in the footer.
type exportPrompt struct {
	open    bool
	job     *exportJob
	input   textinput.Model
	replace string // the existing file the user was told enter replaces
}

// staticPodDir is where the kubelet runs every file as a static pod: an
// export never goes there (a kubeadm master's default staticPodPath).
const staticPodDir = "/etc/kubernetes/manifests"

// defaultOutDir is where exports go when the caller names no folder: the
// home folder, else the temporary one; never the current folder.
func defaultOutDir() string {
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return h
	}
	return os.TempDir()
}

// openExport opens the prompt for what front exports.
func (m *model) openExport(front subScreen) tea.Cmd {
	e, ok := front.(exporter)
	var job *exportJob
	if ok {
		job = e.export()
	}
	if job == nil {
		return statusCmd("nothing to export here: ctrl+s exports Requests, Detail, History, RBAC, the Timeline", true)
	}
	in := pageInput(m.env)
	exts := []string{}
	for _, f := range job.formats {
		exts = append(exts, f.exts[0])
	}
	in.Prompt = "export " + job.what + " (" + strings.Join(exts, ", ") + ") to: "
	in.CharLimit = 4096
	in.SetWidth(max(10, m.width-len([]rune(in.Prompt))-1))
	in.SetValue(filepath.Join(m.opts.OutDir, job.base+job.formats[0].exts[0]))
	in.CursorEnd()
	m.export = exportPrompt{open: true, job: job, input: in}
	return m.export.input.Focus()
}

// updateExport edits the path; enter writes, esc gives up.
func (m *model) updateExport(msg tea.Msg) tea.Cmd {
	k := m.env.Keys
	if kp, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(kp, k.FilterCancel):
			m.export = exportPrompt{}
			return m.setMessage("nothing exported", false)
		case key.Matches(kp, k.FilterApply):
			return m.exportTo(m.export.input.Value())
		}
	}
	var cmd tea.Cmd
	m.export.input, cmd = m.export.input.Update(msg)
	return cmd
}

// exportTo checks the path typed and writes the export there, in the
// background; a refusal keeps the prompt open with the reason.
func (m *model) exportTo(typed string) tea.Cmd {
	job := m.export.job
	path, err := exportPath(typed)
	if err != nil {
		return m.setMessage(err.Error(), true)
	}
	format, err := job.format(path)
	if err != nil {
		return m.setMessage(err.Error(), true)
	}
	shown := sanitize(path)
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return m.setMessage(shown+" is a folder: add a file name", true)
		}
		if m.export.replace != path {
			m.export.replace = path
			return m.setMessage(shown+" exists: enter again to replace it, or change the name", true)
		}
	}
	m.export = exportPrompt{}
	what := job.what
	return func() tea.Msg {
		b, err := format.build()
		if err != nil {
			return statusMsg{Text: "nothing written: " + sanitize(err.Error()), Err: true}
		}
		if err := writeFileAtomic(path, b); err != nil {
			return statusMsg{Text: "could not write " + shown + ": " + sanitize(err.Error()), Err: true}
		}
		return statusMsg{Text: fmt.Sprintf("wrote %s as %s (%s) to %s", what, format.name, byteCount(len(b)), shown)}
	}
}

// exportPath makes the typed path absolute (~ is the home folder) and
// refuses the kubelet's static pod folder, whatever links lead there.
func exportPath(typed string) (string, error) {
	p := strings.TrimSpace(typed)
	if p == "" {
		return "", fmt.Errorf("type a file name (esc: export nothing)")
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no home folder to put ~ in: type the whole path")
		}
		p = filepath.Join(h, p[1:])
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("%s: %v", sanitize(p), err)
	}
	dirs := []string{abs, filepath.Dir(abs)}
	for _, d := range []string{abs, filepath.Dir(abs)} {
		if real, err := filepath.EvalSymlinks(d); err == nil {
			dirs = append(dirs, real)
		}
	}
	for _, d := range dirs {
		if d == staticPodDir || strings.HasPrefix(d, staticPodDir+"/") {
			return "", fmt.Errorf("not into %s: the kubelet would try to run every file there as a static pod; choose another folder", staticPodDir)
		}
	}
	return abs, nil
}

// format is the job's format for path's extension.
func (j *exportJob) format(path string) (exportFormat, error) {
	ext := strings.ToLower(filepath.Ext(path))
	for _, f := range j.formats {
		for _, e := range f.exts {
			if ext == e {
				return f, nil
			}
		}
	}
	if len(j.formats) == 1 {
		return j.formats[0], nil // a text: any name will do
	}
	var names []string
	for _, f := range j.formats {
		names = append(names, f.exts[0]+" ("+f.name+")")
	}
	return exportFormat{}, fmt.Errorf("end the file name in %s", strings.Join(names, " or "))
}

// textExport is a text drawn by a screen (a history, the coverage report),
// as it is drawn: one line a line.
func textExport(what, base, name string, exts []string, lines []string) *exportJob {
	text := []byte(strings.Join(lines, "\n") + "\n")
	return &exportJob{what: what, base: base, formats: []exportFormat{{exts: exts, name: name,
		build: func() ([]byte, error) { return text, nil }}}}
}

// requestsExport is requests (in the order shown) as JSON lines (every
// event of each, raw, as the apiserver wrote it: what query -o json
// prints) or CSV (a row per request, the values as logged).
func requestsExport(d Data, rows Rows, base string) *exportJob {
	if rowsLen(rows) == 0 {
		return nil
	}
	if _, paged := rows.(*StoreRows); paged { // every row would be fetched, a page at a time
		fail := func() ([]byte, error) { return nil, fmt.Errorf("%s", storeWholeNote("an export")) }
		return &exportJob{what: plural(rows.Len(), "request"), base: base, formats: []exportFormat{
			{exts: []string{".jsonl", ".json", ".ndjson"}, name: "JSON lines", build: fail}, {exts: []string{".csv"}, name: "CSV", build: fail}}}
	}
	return &exportJob{what: plural(rows.Len(), "request"), base: base, formats: []exportFormat{
		{exts: []string{".jsonl", ".json", ".ndjson"}, name: "JSON lines", build: func() ([]byte, error) {
			var b []byte
			eachRow(rows, true, func(_ int, r *audit.Request) bool {
				b = appendEvents(b, d, r.Events)
				return true
			})
			if len(b) == 0 {
				return nil, fmt.Errorf("the raw events of these requests cannot be read again")
			}
			return b, nil
		}},
		{exts: []string{".csv"}, name: "CSV", build: func() ([]byte, error) { return requestsCSV(rows) }},
	}}
}

// requestsCSVHeader are the columns of a requests CSV.
var requestsCSVHeader = []string{"time", "audit_id", "user", "impersonated_user", "verb", "api_group", "resource",
	"subresource", "namespace", "name", "code", "latency_ms", "stage", "source_ips", "user_agent",
	"decision", "reason", "request_uri"}

// requestsCSV is a row per request with its values as logged (a CSV cell
// holds any text; nothing is escaped but what CSV quotes).
func requestsCSV(rows Rows) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(requestsCSVHeader)
	eachRow(rows, false, func(_ int, r *audit.Request) bool {
		{
			code, lat := "", ""
			if r.Code != 0 {
				code = strconv.Itoa(r.Code)
			}
			if d := r.Latency(); d > 0 {
				lat = strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 3, 64)
			}
			w.Write([]string{render.FormatTime(r.First(), render.TimeExact), r.AuditID, r.User, r.ImpersonatedUser,
				r.Verb, r.APIGroup, r.Resource, r.Subresource, r.Namespace, r.Name, code, lat, r.Stage,
				strings.Join(r.SourceIPs, " "), r.UserAgent, r.Decision, r.Reason, render.RedactURI(r.RequestURI())})
		}
		return true
	})
	w.Flush()
	return buf.Bytes(), w.Error()
}

// eventsExport is one request's events, raw, as JSON lines.
func eventsExport(d Data, r *audit.Request) *exportJob {
	if r == nil {
		return nil
	}
	n := 0
	d.Store.Read(func(audit.Snapshot) { n = len(r.Events) })
	return &exportJob{what: plural(n, "event") + " of this request", base: "kauditui-" + safeFileName(r.AuditID),
		formats: []exportFormat{{exts: []string{".jsonl", ".json", ".ndjson"}, name: "JSON lines", build: func() ([]byte, error) {
			b, n := requestEvents(d, r)
			if n == 0 {
				return nil, fmt.Errorf("the raw events of this request cannot be read again")
			}
			return b, nil
		}}}}
}
