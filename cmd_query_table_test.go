package main

// The default table (`kauditui query`) on an 80-column terminal, with text
// that is not one cell per rune: CJK (two cells), emoji (two cells),
// combining marks (none).

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit/audittest"
)

// tableEvent is a ResponseComplete audit event for stdin.
func tableEvent(t *testing.T, id, user, verb, resource, group, ns, name string) string {
	t.Helper()
	ev := map[string]any{
		"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
		"auditID": id, "stage": "ResponseComplete", "verb": verb,
		"requestURI": "/apis/" + group + "/v1/namespaces/" + ns + "/" + resource + "/" + name,
		"user":       map[string]any{"username": user},
		"sourceIPs":  []string{"10.0.0.1"}, "userAgent": "kubectl/v1.37.2",
		"objectRef":                map[string]any{"resource": resource, "apiGroup": group, "namespace": ns, "name": name, "apiVersion": "v1"},
		"responseStatus":           map[string]any{"metadata": map[string]any{}, "code": 200},
		"requestReceivedTimestamp": "2026-11-26T03:00:00.000000Z",
		"stageTimestamp":           "2026-11-26T03:00:00.004000Z",
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

// runQueryTTY runs `kauditui query ARGS...` as if on a terminal this wide.
func runQueryTTY(t *testing.T, width int, stdin string, args ...string) queryResult {
	t.Helper()
	var out, errOut bytes.Buffer
	io := &IO{In: strings.NewReader(stdin), Out: &out, Err: &errOut, OutTTY: width > 0, Width: width,
		Getenv: func(string) string { return "" }}
	code := run(append([]string{"query", "--no-color"}, args...), io)
	return queryResult{code, out.String(), errOut.String()}
}

var tableToken = regexp.MustCompile(`[^ ]+( [^ ]+)*`)

// cellStarts returns the screen cell where each text of line (texts are
// separated by two spaces or more) starts, and the texts.
func cellStarts(line string) ([]int, []string) {
	var starts []int
	var texts []string
	for _, m := range tableToken.FindAllStringIndex(line, -1) {
		starts = append(starts, ansi.StringWidth(line[:m[0]]))
		texts = append(texts, line[m[0]:m[1]])
	}
	return starts, texts
}

// checkTable asserts that every line of a table is at most width cells
// (width > 0) and that every text of every row starts at the cell where a
// column of the header starts. It returns the rows as column title → text.
func checkTable(t *testing.T, out string, width int) []map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "TIME") {
		t.Fatalf("not a table:\n%s", out)
	}
	hStarts, titles := cellStarts(lines[0])
	column := map[int]string{}
	for i, s := range hStarts {
		column[s] = titles[i]
	}
	var rows []map[string]string
	for n, line := range lines {
		if w := ansi.StringWidth(line); width > 0 && w > width {
			t.Errorf("line %d is %d cells, the terminal %d:\n%s", n, w, width, line)
		}
		if n == 0 {
			continue
		}
		row := map[string]string{}
		starts, texts := cellStarts(line)
		for i, s := range starts {
			title, ok := column[s]
			if !ok {
				t.Errorf("line %d: %q starts at cell %d, where no column starts (columns at %v):\n%s\n%s", n, texts[i], s, hStarts, lines[0], line)
				continue
			}
			row[title] = texts[i]
		}
		rows = append(rows, row)
	}
	return rows
}

func TestTableFits80ColumnsAndAlignsWideCharacters(t *testing.T) {
	stdin := tableEvent(t, "a1", "山田太郎", "get", "configmaps", "", "チーム", "設定") +
		tableEvent(t, "a2", "rocket🚀ops", "update", "deployments", "apps", "team-a", "🚀-launcher") +
		tableEvent(t, "a3", "Jose\u0301", "patch", "widgets", "kubyk.example", "cafe\u0301", "me\u0301nu\u0301") +
		tableEvent(t, "a4", "system:serviceaccount:team-a:kubyk-bot", "deletecollection", "horizontalpodautoscalers", "autoscaling", "team-a", "kubyk-web-frontend-autoscaler") +
		tableEvent(t, "a5", "非常に長い名前の利用者アカウントです", "list", "秘密のリソースの種類です", "例え.example", "名前空間です", "とても長いオブジェクトの名前です")
	for _, width := range []int{80, 0} {
		r := runQueryTTY(t, width, stdin, "-")
		if r.code != 0 {
			t.Fatalf("width %d: exit %d: %s", width, r.code, r.stderr)
		}
		rows := checkTable(t, r.stdout, width)
		if len(rows) != 5 {
			t.Fatalf("width %d: want 5 rows, got %d:\n%s", width, len(rows), r.stdout)
		}
		for i, row := range rows {
			if row["TIME"] != "2026-11-26T03:00:00Z" {
				t.Errorf("width %d, row %d: TIME %q, want the whole date and time", width, i, row["TIME"])
			}
			if row["CODE"] != "200" || row["LATENCY"] != "4ms" {
				t.Errorf("width %d, row %d: CODE %q LATENCY %q, want 200 4ms:\n%s", width, i, row["CODE"], row["LATENCY"], r.stdout)
			}
		}
		if width == 0 {
			// Not a terminal: nothing is cut.
			for _, want := range []string{"山田太郎", "チーム/設定", "🚀-launcher", "Jose\u0301", "cafe\u0301/me\u0301nu\u0301", "deletecollection", "非常に長い名前の利用者アカウントです"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("no terminal, yet %q was cut:\n%s", want, r.stdout)
				}
			}
		}
		t.Logf("width %d:\n%s", width, r.stdout)
	}
}

// The real testdata on an 80-column terminal: every row fits, aligned.
func TestTableRealLogFits80Columns(t *testing.T) {
	for _, o := range []string{"table", "wide"} {
		r := runQueryTTY(t, 80, "", "-o", o, audittest.Path("file", "audit.log"))
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		width := 80
		if o == "wide" {
			width = 0 // the wide table's minimums are wider than 80: it may wrap
		}
		for _, row := range checkTable(t, r.stdout, width) {
			if len(row["TIME"]) != len("2006-01-02T15:04:05Z") || row["CODE"] == "" {
				t.Errorf("-o %s: row without its time or code: %v", o, row)
			}
		}
	}
}
