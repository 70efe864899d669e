package ui

import (
	"bufio"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/source"
)

func newTestKlogPage(t *testing.T, w, h int, noColor bool) (*klogPage, audit.Snapshot) {
	t.Helper()
	d, snap, names := pgLoad(t, "stdout/kube-apiserver.log")
	p := newKlogPage(pgEnv(d, noColor)).(*klogPage)
	p.SetInputName(namesOf(names))
	pgSized(p, DataMsg{Snap: snap, All: testRows(snap.Requests), Shown: testRows(snap.Requests), Reset: true}, w, h)
	return p, snap
}

var klogHeaderRE = regexp.MustCompile(`^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ [^ ]+:\d+\] `)

// klogFileLines is the klog header lines of the stdout run, read with a
// regexp, not with kauditui's classifier.
func klogFileLines(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(audittest.Path("stdout", "kube-apiserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if klogHeaderRE.MatchString(sc.Text()) {
			out = append(out, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The page shows exactly the stdout run's klog lines, no audit line, and
// follows the tail: the last klog line is on the screen.
func TestKlogShowsExactlyTheKlogLines(t *testing.T) {
	truth := audittest.Truth(t)
	want := int(truth.Get("runs.stdout.klogLines").Int())
	lines := klogFileLines(t)
	if len(lines) != want || want == 0 {
		t.Fatalf("the file has %d klog lines, ground truth %d", len(lines), want)
	}
	// kauditui also reads the klog lines held in an audit line that the
	// runtime spliced (source/splice.go): the stderr stream's, which the
	// ground truth counts on the CRI log
	read := want
	if c := truth.Get("runs.stdout.cri.klogLines"); c.Exists() {
		read = int(c.Int())
	}
	p, snap := newTestKlogPage(t, 120, 36, true)
	if len(snap.Klog) != read {
		t.Fatalf("store: %d klog lines, want %d", len(snap.Klog), read)
	}
	v := ansi.Strip(p.View())
	if !strings.Contains(v, thousands(read)+" of "+thousands(read)+" lines") {
		t.Errorf("header does not count %d lines:\n%s", read, v)
	}
	last := klogHeaderRE.ReplaceAllString(lines[len(lines)-1], "")
	if !strings.Contains(v, last[:min(len(last), 60)]) {
		t.Errorf("the last klog line %q is not on screen:\n%s", last, v)
	}
	if strings.Contains(v, `"kind":"Event"`) || strings.Contains(v, "auditID") {
		t.Errorf("an audit line on the apiserver-log page:\n%s", v)
	}
	if !p.follow {
		t.Error("not following the tail at start")
	}
}

// / edits the page's own filter, applied as typed (smart case); esc puts
// back the previous one, enter keeps it; the page captures keys meanwhile.
func TestKlogTextFilter(t *testing.T) {
	p, snap := newTestKlogPage(t, 120, 36, true)
	if !p.OwnsKey(pgKey("/")) || p.OwnsKey(pgKey("q")) {
		t.Fatal("the page must own / and only /")
	}
	pgPress(p, "/")
	if !p.CapturesInput() {
		t.Fatal("/ did not open the text filter")
	}
	pgType(p, "httplog")
	want := 0
	for _, l := range snap.Klog {
		if strings.Contains(strings.ToLower(l.Msg+l.File), "httplog") {
			want++
		}
	}
	if len(p.matched) != want || want == 0 || want == len(snap.Klog) {
		t.Fatalf("httplog: %d lines match, want %d (of %d)", len(p.matched), want, len(snap.Klog))
	}
	pgPress(p, "esc")
	if p.CapturesInput() || len(p.matched) != len(snap.Klog) {
		t.Fatalf("esc: prompting %v, %d lines shown, want all %d", p.CapturesInput(), len(p.matched), len(snap.Klog))
	}
	pgPress(p, "/")
	pgType(p, "HTTPLOG") // capitals: case-sensitive, and klog writes httplog
	if len(p.matched) != 0 {
		t.Fatalf("HTTPLOG matches %d lines, want none (smart case)", len(p.matched))
	}
	if v := ansi.Strip(p.View()); !strings.Contains(v, "no log line matches") {
		t.Errorf("no match is not said:\n%s", v)
	}
	pgPress(p, "ctrl+u")
	pgType(p, "httplog")
	pgPress(p, "enter")
	if p.CapturesInput() || len(p.matched) != want {
		t.Fatalf("enter: prompting %v, %d lines, want %d", p.CapturesInput(), len(p.matched), want)
	}
	if v := ansi.Strip(p.View()); !strings.Contains(v, "log filter: httplog") {
		t.Errorf("the applied filter is not shown:\n%s", v)
	}
}

// s steps through severities; every shown line is at least that severe.
func TestKlogSeverity(t *testing.T) {
	p, snap := newTestKlogPage(t, 120, 36, true)
	pgPress(p, "s")
	n := 0
	for _, l := range snap.Klog {
		if l.Severity != 'I' {
			n++
		}
	}
	if len(p.matched) != n {
		t.Fatalf("warnings and worse: %d lines, want %d", len(p.matched), n)
	}
	pgPress(p, "s")
	for _, i := range p.matched {
		if s := snap.Klog[i].Severity; s != 'E' && s != 'F' {
			t.Fatalf("errors only shows a %c line", s)
		}
	}
	pgPress(p, "s")
	if len(p.matched) != len(snap.Klog) {
		t.Fatal("a third s did not show everything again")
	}
}

// The cursor going up stops following (the view moves when the cursor
// leaves it); G (or the cursor reaching the end) follows again; new lines
// then scroll into view.
func TestKlogScrollAndFollow(t *testing.T) {
	p, snap := newTestKlogPage(t, 80, 20, true)
	last, lastCur := p.top, p.cur
	pgPress(p, "k")
	if p.follow || p.top != last || p.cur != lastCur-1 {
		t.Fatalf("k: follow %v top %d cursor %d, want paused at top %d, cursor %d", p.follow, p.top, p.cur, last, lastCur-1)
	}
	pgPress(p, "g")
	if p.top != 0 || p.cur != 0 {
		t.Fatal("g did not go to the first line")
	}
	for range p.visibleRows() {
		pgPress(p, "j")
	}
	if p.top != 1 || p.cur != p.visibleRows() {
		t.Fatalf("j past the last row shown: top %d cursor %d, want the view one row down", p.top, p.cur)
	}
	pgPress(p, "G")
	if !p.follow || p.top != last {
		t.Fatalf("G: follow %v top %d, want %d", p.follow, p.top, last)
	}
	// The store grows: a following page shows the new tail.
	grown := snap
	grown.Klog = append(append([]audit.KlogLine(nil), snap.Klog...), audit.KlogLine{Severity: 'E', Time: snap.Klog[0].Time, File: "test.go:1", Msg: "a new line at the end"})
	p.Update(DataMsg{Snap: grown, All: testRows(grown.Requests)})
	if v := ansi.Strip(p.View()); !strings.Contains(v, "a new line at the end") {
		t.Fatalf("the new last line is not shown:\n%s", v)
	}
}

// Severity is coloured: E red, W yellow (the colour style set).
func TestKlogColours(t *testing.T) {
	p, _ := newTestKlogPage(t, 120, 36, false)
	st := p.env.Styles
	line := p.klogLine(&audit.KlogLine{Severity: 'E', File: "x.go:1", Msg: "boom"}, klogRow{})
	if !strings.HasPrefix(line, st.SevError.Render("E")) || st.SevError.Render("E") == "E" {
		t.Errorf("an E line does not start with the error colour: %q", line)
	}
	line = p.klogLine(&audit.KlogLine{Severity: 'W', File: "x.go:1", Msg: "hmm"}, klogRow{})
	if !strings.HasPrefix(line, st.SevWarn.Render("W")) || st.SevWarn.Render("W") == "W" {
		t.Errorf("a W line does not start with the warning colour: %q", line)
	}
	// Message text from the log is escaped.
	line = p.klogLine(&audit.KlogLine{Severity: 'I', File: "x.go:1", Msg: "a\x1b[2Jb\rc\x07"}, klogRow{})
	if strings.Contains(line, "\x1b[2J") || !strings.Contains(ansi.Strip(line), `a\x1b[2Jb\rc\x07`) {
		t.Errorf("the message is not escaped: %q", line)
	}
}

// A message klog wrote over several lines is drawn over as many rows.
func TestKlogMultiLineMessage(t *testing.T) {
	p, snap := newTestKlogPage(t, 100, 20, true)
	grown := snap
	grown.Klog = append(append([]audit.KlogLine(nil), snap.Klog...),
		audit.KlogLine{Severity: 'E', Time: snap.Klog[0].Time, File: "panic.go:9", Msg: "observed a panic\ngoroutine 1 [running]:\n\tmain.main()"})
	p.Update(DataMsg{Snap: grown, All: testRows(grown.Requests)})
	v := ansi.Strip(p.View())
	lines := strings.Split(v, "\n")
	n := len(lines)
	if n < 3 || !strings.Contains(lines[n-3], "panic.go:9] observed a panic") ||
		!strings.HasSuffix(lines[n-2], "goroutine 1 [running]:") || !strings.HasSuffix(lines[n-1], `\tmain.main()`) {
		t.Fatalf("the three lines of the message are not the last three rows:\n%s", v)
	}
	if !strings.Contains(v, thousands(len(grown.Klog))+" of "+thousands(len(grown.Klog))+" lines") {
		t.Errorf("a multi-line message counts as one line:\n%s", v)
	}
}

// o shows the lines that were neither audit nor klog, with input, line
// number and reason; o again goes back.
func TestKlogOtherLines(t *testing.T) {
	p, snap := newTestKlogPage(t, 120, 36, true)
	v := ansi.Strip(p.View())
	if !strings.Contains(v, "other "+thousands(len(snap.Other))) {
		t.Errorf("the header does not count %d other lines:\n%s", len(snap.Other), v)
	}
	pgPress(p, "o")
	v = ansi.Strip(p.View())
	if !strings.Contains(v, "Other lines") {
		t.Fatalf("o did not show the other lines:\n%s", v)
	}
	if len(snap.Other) == 0 {
		if !strings.Contains(v, "every line was an audit event or a klog line") {
			t.Errorf("no other lines is not said:\n%s", v)
		}
	} else {
		o := snap.Other[len(snap.Other)-1]
		where := "kube-apiserver.log:" + strconv.FormatInt(o.Line, 10)
		if !strings.Contains(v, where) || !strings.Contains(v, o.Why) {
			t.Errorf("the last other line (%s, %s) is not shown:\n%s", where, o.Why, v)
		}
	}
	pgPress(p, "o")
	if v := ansi.Strip(p.View()); !strings.Contains(v, "Apiserver log") {
		t.Fatalf("o did not go back:\n%s", v)
	}
}

// A file-mode audit log has no klog lines: the page says why.
func TestKlogEmpty(t *testing.T) {
	d, snap, _ := pgLoad(t, "file/audit.log")
	p := pgSized(newKlogPage(pgEnv(d, true)), DataMsg{Snap: snap, All: testRows(snap.Requests), Reset: true}, 80, 20)
	if v := ansi.Strip(p.View()); !strings.Contains(v, "no apiserver log lines") {
		t.Fatalf("empty log page:\n%s", v)
	}
}

func TestKlogGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		p, _ := newTestKlogPage(t, size[0], size[1]-4, true)
		pgGolden(t, "klog_"+sizeName(size), p.View())
		pgPress(p, "/")
		pgType(p, "audit-ID")
		pgGolden(t, "klog_filter_"+sizeName(size), p.View())
	}
}

// Typing in the log's text filter rescans every klog line. The big log has
// none, so the stdout run's lines are repeated to 200k.
func BenchmarkKlogFilterKey(b *testing.B) {
	set, err := source.Open(context.Background(), source.Spec{Paths: []string{audittest.Path("stdout", "kube-apiserver.log")}}, source.Options{})
	if err != nil {
		b.Skip(err)
	}
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		b.Fatal(err)
	}
	snap := st.Snapshot()
	if len(snap.Klog) == 0 {
		b.Skip("no klog lines")
	}
	var many []audit.KlogLine
	for len(many) < 200_000 {
		many = append(many, snap.Klog...)
	}
	snap.Klog = many
	p := newKlogPage(pgEnv(Data{Store: st, Raw: set.Raw}, false)).(*klogPage)
	pgSized(p, DataMsg{Snap: snap, All: testRows(snap.Requests)}, 120, 36)
	pgPress(p, "/")
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			pgType(p, "x")
		} else {
			pgPress(p, "backspace")
		}
		p.View()
	}
	b.ReportMetric(float64(len(many)), "lines")
}

// w wraps long lines onto the next rows: every character of the last line
// is on the screen, no row is wider than the page, and w again cuts them.
func TestKlogWrap(t *testing.T) {
	p, snap := newTestKlogPage(t, 80, 20, true)
	last := snap.Klog[len(snap.Klog)-1]
	long := audit.KlogLine{Severity: 'W', Time: last.Time, File: "httplog.go:135",
		Msg: strings.Repeat("0123456789", 25) + "END"}
	grown := snap
	grown.Klog = append(append([]audit.KlogLine(nil), snap.Klog...), long)
	p.Update(DataMsg{Snap: grown, All: testRows(grown.Requests)})
	if v := ansi.Strip(p.View()); strings.Contains(v, "END") {
		t.Fatalf("a 253-character line fits in 80 columns unwrapped:\n%s", v)
	}
	pgPress(p, "w")
	v := ansi.Strip(p.View())
	joined := ""
	for _, line := range strings.Split(v, "\n") {
		if w := ansi.StringWidth(line); w > 80 {
			t.Errorf("row %d cells wide: %q", w, line)
		}
		if strings.Contains(line, "0123") || strings.HasPrefix(line, klogIndent) {
			joined += strings.TrimPrefix(strings.TrimPrefix(line, klogIndent), "W "+long.Time.Format("01-02 15:04:05.000")+" httplog.go:135] ")
		}
	}
	if !strings.HasSuffix(joined, long.Msg) {
		t.Fatalf("the wrapped rows do not hold the whole message:\n%s", v)
	}
	if !p.follow {
		t.Error("wrapping stopped following")
	}
	p.SetSize(60, 20)
	if v := ansi.Strip(p.View()); !strings.Contains(v, "END") {
		t.Fatalf("after a resize the wrapped line's end is gone:\n%s", v)
	}
	pgPress(p, "w")
	if v := ansi.Strip(p.View()); strings.Contains(v, "END") {
		t.Fatalf("w again did not cut the line:\n%s", v)
	}
}

func TestContainsFold(t *testing.T) {
	for _, c := range []struct {
		s, q string
		want bool
	}{
		{`"HTTP" verb="WATCH" URI="/apis"`, "watch", true},
		{`"HTTP" verb="WATCH"`, "http", true},
		{"audit-ID=abc", "audit-id", true},
		{"Abc", "abcd", false},
		{"xxxxa", "a", true},
		{"", "a", false},
		{"größe Straße", "straße", true},
		{"aaab", "aab", true},
		{"AaAb", "aab", true},
	} {
		if got := containsFold(c.s, c.q); got != c.want {
			t.Errorf("containsFold(%q, %q) = %v", c.s, c.q, got)
		}
	}
}
