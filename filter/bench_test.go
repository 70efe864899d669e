package filter

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
)

// benchCorpus is about 1M requests made from the real events (or the sample
// log until testdata exists): each request of the source log is repeated
// with the auditID, user and object name varied, and its raw lines kept in
// memory for the bare-word benchmark.
func benchCorpus(b *testing.B) *corpus {
	b.Helper()
	src := loadFiles(b, audittest.Logs(b, "file")...)
	const target = 1_000_000
	reps := (target + len(src.reqs) - 1) / len(src.reqs)
	users := []string{"alice", "bob", "carol", "dave", "system:serviceaccount:ci:deployer"}
	c := &corpus{store: audit.NewStore()}
	var buf bytes.Buffer
	n := 0
	for i := 0; i < reps && n < target; i++ {
		for _, r := range src.reqs {
			if n == target {
				break
			}
			for _, ev := range r.Events {
				line, _ := src.raw(ev.Ref)
				id := fmt.Sprintf("%s-%07d", r.AuditID, i)
				line = bytes.Replace(line, []byte(r.AuditID), []byte(id), 1)
				if r.Name != "" {
					line = bytes.ReplaceAll(line, []byte(`"`+r.Name+`"`), []byte(fmt.Sprintf(`"%s-%d"`, r.Name, i%1000)))
				}
				if i > 0 && r.User == "kubernetes-admin" {
					line = bytes.Replace(line, []byte(`"username":"kubernetes-admin"`), []byte(`"username":"`+users[i%len(users)]+`"`), 1)
				}
				off := buf.Len()
				buf.Write(line)
				c.store.AddEvent(line, audit.Ref{Input: 0, Len: int32(len(line)), Off: int64(off)})
				buf.WriteByte('\n')
			}
			n++
		}
	}
	c.data = [][]byte{buf.Bytes()}
	c.reqs = c.store.Snapshot().Requests
	return c
}

var benchData *corpus

// BenchmarkMatch filters ~1M requests per iteration; ns/req is the wall time
// per op divided by the request count, cpu-ns/req the same in CPU time.
func BenchmarkMatch(b *testing.B) {
	if benchData == nil {
		benchData = benchCorpus(b)
	}
	c := benchData
	for _, bc := range []struct {
		name, expr string
		raw        bool
	}{
		{"3terms", "user=erin-editor verb=get,list,watch resource=deploy", false},
		{"3terms-glob", "user=system:serviceaccount:* ns!=kube-* name=kubyk*", false},
		{"code-since", "code>=400 since=1h", false},
		{"agent-uri", "agent=*kubectl* uri=*/namespaces/team-a/*", false},
		{"bareword", "kubyk-web", true},
		{"bareword+field", "verb=delete kubyk-web", true},
	} {
		f, err := Parse(bc.expr, c.now())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			matched := 0
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				matched = 0
				for _, r := range c.reqs {
					var ok bool
					if bc.raw {
						ok = f.MatchRaw(r, c.raw)
					} else {
						ok = f.Match(r)
					}
					if ok {
						matched++
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(c.reqs)), "ns/req")
			// CPU time is steadier than wall time on a shared machine.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/float64(len(c.reqs)), "cpu-ns/req")
			b.ReportMetric(float64(matched), "matched")
			b.ReportMetric(float64(len(c.reqs)), "requests")
		})
	}
}
