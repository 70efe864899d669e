package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/render"
)

// setLocal stands in for the TZ environment variable (read once per
// process): time.Local is the zone TZ names.
func setLocal(t *testing.T, name string) {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Local
	time.Local = loc
	t.Cleanup(func() { time.Local = old; render.SetZone(nil) })
}

var zoneSuffix = regexp.MustCompile(`(Z|[+-]\d\d:\d\d)$`)

// A time copied from query's table finds its row when fed back as since=
// and until=, with its zone or without it, whatever --tz and TZ say: the
// table shows the zone of every time, a zone-less time is read in the
// zone shown (never the machine's), and a time shown to the second names
// the whole second. On the real log, every row.
func TestTableTimeFindsItsRow(t *testing.T) {
	// the live file alone (its backups beside it would be read too)
	b, err := os.ReadFile(audittest.Path("file", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(log, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, tzEnv string
		flags       []string
		suffix      string // every time shown ends with it
	}{
		{"default", "UTC", nil, "Z"},
		{"default under TZ=Asia/Tokyo", "Asia/Tokyo", nil, "Z"},
		{"--tz Asia/Tokyo", "UTC", []string{"--tz", "Asia/Tokyo"}, "+09:00"},
		{"--tz Asia/Tokyo under TZ=America/New_York", "America/New_York", []string{"--tz", "Asia/Tokyo"}, "+09:00"},
		{"--tz local under TZ=Asia/Tokyo", "Asia/Tokyo", []string{"--tz", "local"}, "+09:00"},
		{"--tz America/St_Johns", "UTC", []string{"--tz", "America/St_Johns"}, "-03:30"},
	} {
		t.Run(c.name, func(t *testing.T) {
			setLocal(t, c.tzEnv)
			out, errOut, code := runQueryArgs(t, append(append([]string{"-o", "wide"}, c.flags...), log)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) < 10 {
				t.Fatalf("%d rows: the test checks little:\n%s", len(lines), out)
			}
			for _, l := range lines[1:] {
				f := strings.Fields(l)
				shown, id := f[0], f[len(f)-1]
				if !strings.HasSuffix(shown, c.suffix) {
					t.Fatalf("row %q: time %q does not end with the zone %s", l, shown, c.suffix)
				}
				bare := zoneSuffix.ReplaceAllString(shown, "")
				for _, at := range []string{shown, bare, strings.Replace(shown, "T", " ", 1)} {
					q := `since="` + at + `" until="` + at + `" id=` + id
					n, errOut, _ := runQueryArgs(t, append(append([]string{"--count", "-q", q}, c.flags...), log)...)
					if strings.TrimSpace(n) != "1" {
						t.Errorf("-q %s %v: %q (%s), want its row", q, c.flags, strings.TrimSpace(n), errOut)
					}
				}
			}
		})
	}
}

// The zone is said once more where a heading names it; a bad --tz is a
// one-line usage error naming what to give, for query and the explorer.
func TestTZFlag(t *testing.T) {
	t.Cleanup(func() { render.SetZone(nil) })
	out, _, code := runQueryArgs(t, "--timeline", "--tz", "Europe/Berlin", audittest.Path("file", "audit.log"))
	if code != exitOK || !strings.Contains(out, "(Europe/Berlin)") || !strings.Contains(out, "2026-11-26T04:57+01:00 ") {
		t.Errorf("--timeline --tz Europe/Berlin: exit %d:\n%s", code, out)
	}
	for _, args := range [][]string{{"query", "--tz", "Mars/Olympus", audittest.Path("file", "audit.log")}, {"--tz", "+09:00", audittest.Path("file", "audit.log")}} {
		ios, o, e := testIO("")
		code := run(args, ios)
		msg := e.String()
		if code != exitUsage || o.Len() != 0 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "give UTC, local, or an IANA zone name like Europe/Berlin") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want exit 2 and one line naming the valid forms", args, code, o.String(), msg)
		}
	}
}

// Kubernetes 1.8's v1beta1 events (real ones, testdata/v1beta1) have only
// timestamp: since= and until= find them by it, and the table shows it.
func TestQueryV1beta1Times(t *testing.T) {
	log := "testdata/v1beta1/audit.log"
	for q, want := range map[string]string{
		"since=2017-09-11":           "5",
		"since=2017-09-12":           "0",
		"until=2017-09-11T19:55:05Z": "1",
		"since=2017-09-11T19:57:33Z until=2017-09-11T19:57:33Z": "2",
		"since=1d": "0",
	} {
		if n, errOut, _ := runQueryArgs(t, "--count", "-q", q, log); strings.TrimSpace(n) != want {
			t.Errorf("-q %s: %q (%s), want %s", q, strings.TrimSpace(n), errOut, want)
		}
	}
	out, _, _ := runQueryArgs(t, log)
	if !strings.Contains(out, "2017-09-11T19:57:35Z  system:admin           delete") {
		t.Errorf("the table does not show the delete's timestamp:\n%s", out)
	}
}

// Times outside 1678-2262 are shown as logged (2300 was shown as 1715),
// and the Unix epoch is a time, not "none"; each is found by the time the
// table shows. The lines are crafted: no apiserver logs such years.
func TestQueryFarTimes(t *testing.T) {
	var in strings.Builder
	for i, at := range []string{"2300-01-02T03:04:05.123456Z", "1970-01-01T00:00:00Z", "1600-06-07T08:09:10Z"} {
		fmt.Fprintf(&in, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"far-%d","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"u%d"},"responseStatus":{"code":200},"requestReceivedTimestamp":%q,"stageTimestamp":%q}`+"\n", i, i, at, at)
	}
	r := runQueryTTY(t, 0, in.String(), "-")
	for i, shown := range []string{"2300-01-02T03:04:05Z", "1970-01-01T00:00:00Z", "1600-06-07T08:09:10Z"} {
		if !regexp.MustCompile(`(?m)^` + shown + `  u` + fmt.Sprint(i) + ` `).MatchString(r.stdout) {
			t.Errorf("the table lacks %s for u%d:\n%s", shown, i, r.stdout)
		}
		q := fmt.Sprintf("since=%s until=%s", shown, shown)
		if c := runQueryTTY(t, 0, in.String(), "--count", "-q", q, "-"); strings.TrimSpace(c.stdout) != "1" {
			t.Errorf("-q %s: %q, want its row", q, c.stdout)
		}
	}
}
