package audit

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// FuzzScanEvent holds the one-pass scanner equal to gjson: the same lines
// are valid, and every field reads as gjson.Get reads it.
func FuzzScanEvent(f *testing.F) {
	for _, s := range []string{`{"kind":"Event","user":{"username":"a\"b","groups":["x"]},"objectRef":{"name":"n"}}`, `{"kind":1,"kind":"Event"}`, `{"responseStatus":{"code":403}}`, `{"annotations":{"authorization.k8s.io/decision":"forbid"}}`, `{"user":"x","user":{"username":"y"}}`, `{"verb":"\ud83d\ude00"}`, `{"user":{"username":"a","extra":{"authentication.kubernetes.io/credential-id":["X509SHA256=ab\u0063"]}}}`, `{"user":{"extra":1,"extra":{"authentication.kubernetes.io/credential-id":["JTI=x"]}}}`, `{"impersonatedUser":{"extra":{"authentication.kubernetes.io/credential-id":["JTI=x"]}}}`, `{"metadata":{"timestamp":"1"},"timestamp":"2017-09-11T19:55:05Z","timestamp":"x"}`, `{"timestamp":{"a":1},"requestReceivedTimestamp":"2\u0030"}`,
		// a code written as a float or with an exponent is still that code
		`{"responseStatus":{"code":403.0}}`, `{"responseStatus":{"code":4.03e2}}`, `{"responseStatus":{"code":40300E-2}}`,
		`{"responseStatus":{"code":-4.03E+2}}`, `{"responseStatus":{"code":403.5}}`, `{"responseStatus":{"code":1e400}}`,
		`{"responseStatus":{"code":0.0}}`, `{"responseStatus":{"code":4030000000000000000000e-19}}`,
		`{"responseStatus":{"code":403.0000000000000000001}}`, `{"responseStatus":{"code":1099511627776e1}}`,
		// keys one byte off the ones the scanner expects next (keyOrder)
		`{"kind":"Event","apiVersio":"a","apiVersion\"":"b","apiVersionX":"c","level":"x","auditI":"d","auditID":"e"}`,
		`{"user":{"usernam":"a","usernamex":"b","username":"c"},"userAgent":"u","use":"v"}`,
		`{"kind":"Event","apiVersion":"v","level":"l","auditID":"i","stage":"s","requestURI":"u","verb":"v","user":{"username":"a","uid":"u","groups":["g"],"extra":{"authentication.kubernetes.io/credential-id":["JTI=x"]}},"sourceIPs":["1"],"userAgent":"a","objectRef":{"resource":"r","namespace":"n","name":"m","apiGroup":"g","apiVersion":"v","subresource":"s"},"responseStatus":{"metadata":{},"message":"m","code":403},"requestReceivedTimestamp":"2026-01-01T00:00:00.000001Z","stageTimestamp":"2026-01-01T00:00:00.000002Z","annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":"r"}}`,
		`{"kind":"Event","apiVersion":"v","level":"l","auditID":"i","stage":"s","requestURI":"u","verb":"v","user":{"username":"a","groups":["g"]},"objectRef":{"namespace":"n","resource":"r"},"annotations":{"authorization.k8s.io/reason":"r","authorization.k8s.io/decision":"allow"}}`,
		`{"kind"`, `{"kind":"Event","apiVersion"`} {
		f.Add([]byte(s))
	}
	for _, seed := range []string{"../testdata/sample.log", "../testdata/v1beta1/audit.log"} {
		if b, err := os.ReadFile(seed); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				f.Add([]byte(l))
			}
		}
	}
	paths := []struct {
		path string
		get  func(*rawEvent) string
	}{
		{"kind", func(e *rawEvent) string { return e.kind }},
		{"apiVersion", func(e *rawEvent) string { return e.apiVersion }},
		{"auditID", func(e *rawEvent) string { return e.auditID }},
		{"stage", func(e *rawEvent) string { return e.stage }},
		{"stageTimestamp", func(e *rawEvent) string { return e.stageAt }},
		{"requestReceivedTimestamp", func(e *rawEvent) string { return e.received }},
		{"timestamp", func(e *rawEvent) string { return e.timestamp }},
		{"verb", func(e *rawEvent) string { return e.verb }},
		{"userAgent", func(e *rawEvent) string { return e.ua }},
		{"user.username", func(e *rawEvent) string { return e.user }},
		{"impersonatedUser.username", func(e *rawEvent) string { return e.impUser }},
		{"objectRef.name", func(e *rawEvent) string { return e.name }},
		{"objectRef.namespace", func(e *rawEvent) string { return e.ns }},
		{"responseStatus.message", func(e *rawEvent) string { return e.message }},
		{`annotations.authorization\.k8s\.io/decision`, func(e *rawEvent) string { return e.decision }},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var e rawEvent
		ok := scanEvent(string(b), &e)
		top := gjson.ParseBytes(b)
		want := gjson.ValidBytes(b) && top.IsObject()
		if ok != want {
			t.Fatalf("scanEvent(%q) ok=%v, gjson says valid object=%v", b, ok, want)
		}
		if !ok {
			return
		}
		for _, p := range paths {
			r := gjson.GetBytes(b, p.path)
			w := ""
			if r.Type == gjson.String {
				w = r.Str
			}
			if got := p.get(&e); got != w {
				t.Fatalf("%s of %q: scanner %q, gjson %q", p.path, b, got, w)
			}
		}
		if r := gjson.GetBytes(b, "responseStatus.code"); r.Type == gjson.Number {
			// A whole value below 2^40 is the code gjson reads, however it
			// is written; a fraction is no code (gjson would truncate it).
			// (an exponent of many digits would have big.Rat build a huge number)
			_, exp, _ := strings.Cut(strings.ToLower(r.Raw), "e")
			v, ok := new(big.Rat), false
			if len(exp) < 6 {
				_, ok = v.SetString(r.Raw)
			}
			if ok {
				switch {
				case v.IsInt() && v.Num().CmpAbs(big.NewInt(1<<40)) <= 0:
					if int64(e.code) != r.Int() {
						t.Fatalf("code of %q: scanner %d, gjson %d", b, e.code, r.Int())
					}
				case !v.IsInt():
					if e.code != 0 {
						t.Fatalf("code of %q: scanner %d, want 0 for a fraction", b, e.code)
					}
				}
			}
		}
		if r := gjson.GetBytes(b, "user.groups"); r.IsArray() && r.Raw != e.groups {
			t.Fatalf("user.groups of %q: scanner %q, gjson %q", b, e.groups, r.Raw)
		}
		// the credential id: the raw array when it is one, nothing otherwise
		cred := ""
		if r := gjson.GetBytes(b, `user.extra.authentication\.kubernetes\.io/credential-id`); r.IsArray() {
			cred = r.Raw
		}
		if cred != e.credID {
			t.Fatalf("credential-id of %q: scanner %q, gjson %q", b, e.credID, cred)
		}
		if cred != "" {
			first := gjson.Get(cred, "0")
			got, esc := firstString(e.credID)
			if esc {
				got = unescape(got)
			}
			if want := first.Str; first.Type == gjson.String && got != want || first.Type != gjson.String && got != "" {
				t.Fatalf("first credential id of %q: %q, gjson %q", b, got, want)
			}
		}
	})
}

// BenchmarkScanBig scans the first 100 MB of the generated 1 GB log (go run
// ./hack/genlog -size 1GB -o testdata/big/audit-1GB.log) as a loader's
// workers do (Prescan.Scan: validation, the fields, the times, the ID's
// hash). ns/line is the wall time a line, cpu-ns/line the process's CPU:
//
//	go test ./audit -run '^$' -bench ScanBig -benchtime 5x
func BenchmarkScanBig(b *testing.B) {
	f, err := os.Open("../testdata/big/audit-1GB.log")
	if err != nil {
		b.Skipf("%v: make it with go run ./hack/genlog -size 1GB -o testdata/big/audit-1GB.log", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 100<<20))
	if err != nil {
		b.Fatal(err)
	}
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	b.SetBytes(int64(len(data)))
	var p Prescan
	var cpu time.Duration
	n := 0
	start := time.Now()
	for b.Loop() {
		before := processCPU()
		for _, l := range lines {
			p.Scan(l)
			if !p.valid {
				b.Fatalf("line %q: not valid", l)
			}
		}
		cpu += processCPU() - before
		n += len(lines)
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n), "ns/line")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/line")
}

// keyAt matches an expected key (keyOrder) when the bytes at ks are the key
// and its closing quote, and never a key one byte off, longer or shorter,
// wherever it is in the line; the entry that expects nothing matches
// nothing.
func TestKeyAtMatchesExactKey(t *testing.T) {
	for k := 1; k < len(keyEntries); k++ {
		e := &keyEntries[k]
		var buf [48]byte
		for w := range e.nw {
			binary.LittleEndian.PutUint64(buf[8*w:], e.w[w])
		}
		key := string(buf[:e.n-1])
		off := []string{key[:len(key)-1], key + "x", "x" + key[1:], key + `\"`}
		for _, tail := range []string{"", `:`, `:"v"}`, `:"a value longer than sixteen bytes"}`} {
			for _, lead := range []string{`{"`, `{"xxxxxxxxxxxxxxxx":1,"`} {
				b := []byte(lead + key + `"` + tail)
				// (without all of its words in the line, it may be scanned
				// instead)
				if !keyAt(b, len(lead), e) && len(lead)+8*e.nw <= len(b) {
					t.Errorf("keyAt(%q, %d) = false for key %q", b, len(lead), key)
				}
				if keyAt(b, len(lead), &keyEntries[0]) {
					t.Errorf("the entry that expects nothing matches %q", b)
				}
				for _, o := range off {
					b := []byte(lead + o + `"` + tail)
					if keyAt(b, len(lead), e) {
						t.Errorf("keyAt(%q, %d) = true for key %q", b, len(lead), key)
					}
				}
			}
		}
	}
}
