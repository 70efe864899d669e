package audit

import (
	"os"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,2.5e-3,"x\u00e9",true,false,null]`, `{"a":`, `{"a" 1}`, `"\x01"`, ` {} `, `-0.1`, `01`, `{"a":"b\"c"}`} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile("../testdata/sample.log"); err == nil {
		for _, l := range strings.Split(string(b), "\n")[:5] {
			f.Add([]byte(l))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), gjson.ValidBytes(b); got != want {
			t.Fatalf("validJSON(%q) = %v, gjson.Valid says %v", b, got, want)
		}
	})
}
