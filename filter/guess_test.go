package filter

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// guessTests are spellings of other query languages that the filter reads
// as meant: each must select exactly the requests of its canonical form, and
// String writes that form.
var guessTests = []struct{ guess, canon string }{
	{"NOT verb=get", "verb!=get"},
	{"not verb=get", "verb!=get"},
	{"Not verb=get", "verb!=get"},
	{"-verb=get", "verb!=get"},
	{"! verb=get", "verb!=get"},
	{"- verb=get", "verb!=get"},
	{"NOT verb!=get", "verb=get"},
	{"NOT code>=400", "!code>=400"},
	{"-code>=400 verb=delete", "!code>=400 verb=delete"},
	{"NOT KUBYK-BOT-POLLER", "!KUBYK-BOT-POLLER"},
	{"-kubyk-bot-poller verb=list", "!kubyk-bot-poller verb=list"},
	{"verb=get OR verb=list", "verb=get,list"},
	{"verb=get or verb=list or verb=watch", "verb=get,list,watch"},
	{"verb=get || verb=list", "verb=get,list"},
	{"resource=deploy OR resource=rs verb=delete", "resource=deploy,rs verb=delete"},
	{"ns=team-a OR namespace=kube-system", "ns=team-a,kube-system"},
	{"code=403 OR code=404", "code=403,404"},
	{"user=erin-editor AND verb=delete", "user=erin-editor verb=delete"},
	{"user=erin-editor and verb=delete && resource=deploy", "user=erin-editor verb=delete resource=deploy"},
	{"verb==delete", "verb=delete"},
	{"code==403", "code=403"},
	{"user:erin-editor", "user=erin-editor"},
	{"USER:erin-editor verb:delete", "user=erin-editor verb=delete"},
	{"namespace:team-a", "ns=team-a"},
	{"user:system:serviceaccount:team-a:*", "user=system:serviceaccount:team-a:*"},
	{"-user:kubernetes-admin verb=delete", "user!=kubernetes-admin verb=delete"},
	// Values and words with ':' that are not field:value stay what they were.
	{"user=system:serviceaccount:team-a:kubyk-bot", "user=system:serviceaccount:team-a:kubyk-bot"},
	{"system:masters", "system:masters"},
	{"group=system:masters", "group=system:masters"},
	// A quoted word is a word, whatever it spells.
	{`"not" verb=get`, `"not" verb=get`},
	{`"-kubyk"`, `"-kubyk"`},
	{`"user:erin"`, `"user:erin"`},
}

func TestGuessesReadAsMeant(t *testing.T) {
	_, c := loadGroundTruth(t)
	for _, tt := range guessTests {
		f, err := Parse(tt.guess, c.now())
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.guess, err)
			continue
		}
		canon, err := Parse(tt.canon, c.now())
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.canon, err)
		}
		if f.String() != canon.String() {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.guess, f.String(), canon.String())
		}
		got, want := c.query(t, tt.guess), c.query(t, tt.canon)
		if ids(got) != ids(want) {
			t.Errorf("%q matches %d requests, %q %d", tt.guess, len(got), tt.canon, len(want))
		}
	}
	// The issue: NOT verb=get found exactly the gets (the word "not" was a
	// search word every line holds).
	all, gets, notGets := len(c.query(t, "")), len(c.query(t, "verb=get")), c.query(t, "NOT verb=get")
	if gets == 0 || len(notGets) != all-gets {
		t.Errorf("NOT verb=get matches %d of %d requests (%d gets), want %d", len(notGets), all, gets, all-gets)
	}
	for _, r := range notGets {
		if r.Verb == "get" {
			t.Fatalf("NOT verb=get matches a get (%s)", r.AuditID)
		}
	}
	if n, get, list := len(c.query(t, "verb=get OR verb=list")), gets, len(c.query(t, "verb=list")); list == 0 || n != get+list {
		t.Errorf("verb=get OR verb=list matches %d, want %d gets + %d lists", n, get, list)
	}
}

// refusedTests are guesses that cannot be read as meant: the error names the
// term and says what to write.
var refusedTests = []struct {
	expr string
	err  string // part of Error()
	term string // the term it names
}{
	{"user=erin-editor OR verb=delete", "no OR across fields (user, verb)", "user=erin-editor OR verb=delete"},
	{"verb!=get OR verb!=list", "OR does not join negations (for a request that is none of them, write verb!=get,list)", "verb!=get OR verb!=list"},
	{"NOT verb=get OR verb=list", "write verb!=get,list", "NOT verb=get OR verb=list"},
	{"code>=500 OR code<200", "OR does not join comparisons", "code>=500 OR code<200"},
	{"kubyk OR poller", "search words do not join with OR", "kubyk OR poller"},
	{"since=1h OR since=2h", "since takes one value", "since=1h OR since=2h"},
	{"user=lou-viewer AND verb=get OR verb=list", "no AND next to OR", "verb=get OR verb=list"},
	{"verb=get or verb=list and user=lou-viewer", "write verb=get,list beside the other terms", "verb=get or verb=list"},
	{"OR verb=get", "a term before OR", "OR"},
	{"verb=get OR", "a term after OR", "OR"},
	{"verb=get OR OR verb=list", "a term before OR", "OR"},
	{"verb=get AND", "a term after AND", "AND"},
	{"NOT", "a search word or a field=value after NOT", "NOT"},
	{"verb=get not", "after not", "not"},
	{"NOT NOT verb=get", "a term after NOT (one NOT)", "NOT"},
	{"NOT AND verb=get", "a term after NOT", "AND"},
	{"--dry-run", `quote it: "--dry-run"`, "--dry-run"},
	{"user~erin", "like user=*erin* (there is no ~ or =~", "user~erin"},
	{"user=~erin", "like user=*erin*", "user=~erin"},
	{"user!~erin", "like user!=*erin*", "user!~erin"},
	{"agent=~^kubectl.*", "like agent=*kubectl*", "agent=~^kubectl.*"},
	{"(verb=get OR verb=list)", "no parentheses", "(verb=get"},
	{"user:", "a value after :", "user:"},
}

func TestGuessesRefused(t *testing.T) {
	for _, tt := range refusedTests {
		_, err := Parse(tt.expr, time.Time{})
		var se *syntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a syntax error", tt.expr, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tt.err) || !strings.Contains(msg, `"`+tt.term+`"`) {
			t.Errorf("Parse(%q) error:\n got %s\nwant %q naming %q", tt.expr, msg, tt.err, tt.term)
		}
		if _, err := TranslateLogsQL(tt.expr, time.Time{}); err == nil {
			t.Errorf("TranslateLogsQL(%q) accepts what Parse refuses", tt.expr)
		}
	}
}

// The store is asked the same question: NOT, OR and AND are not search words
// there either.
func TestGuessesInLogsQL(t *testing.T) {
	for _, tt := range []struct{ guess, canon string }{
		{"NOT verb=get kubyk", "verb!=get kubyk"},
		{"verb=get OR verb=list AND", ""},
		{"user:erin-editor AND verb=get OR verb=list", ""},
		{"user:erin-editor verb=get OR verb=list", "user=erin-editor verb=get,list"},
	} {
		g, gerr := TranslateLogsQL(tt.guess, time.Time{})
		if tt.canon == "" {
			if gerr == nil {
				t.Errorf("TranslateLogsQL(%q) accepted", tt.guess)
			}
			continue
		}
		c, err := TranslateLogsQL(tt.canon, time.Time{})
		if gerr != nil || err != nil {
			t.Fatalf("TranslateLogsQL: %v, %v", gerr, err)
		}
		if g.String() != c.String() {
			t.Errorf("TranslateLogsQL(%q) = %s\nwant %s", tt.guess, g, c)
		}
	}
}

// Quick filters keep a NOT or an OR group one term.
func TestWithGuesses(t *testing.T) {
	for _, tt := range []struct {
		expr, field, value string
		exclude            bool
		want               string
	}{
		{"NOT verb=get", "verb", "list", false, "verb=list"},
		{"NOT verb=get", "user", "bob", false, "NOT verb=get user=bob"},
		{"NOT verb=get", "verb", "list", true, "verb!=get,list"},
		{"verb=get OR verb=list", "verb", "watch", false, "verb=watch"},
		{"verb=get OR verb=list ns=a", "user", "bob", false, "verb=get OR verb=list ns=a user=bob"},
		{"user=a AND verb=get", "verb", "list", false, "user=a verb=list"},
	} {
		if got := With(tt.expr, tt.field, tt.value, tt.exclude); got != tt.want {
			t.Errorf("With(%q, %s, %s, %v) = %q, want %q", tt.expr, tt.field, tt.value, tt.exclude, got, tt.want)
		}
	}
}

// LANGUAGE.md's "Other spellings" stay true: each spelling reads as its row
// says, each refused one is refused, and what the refusals advise parses.
func TestLanguageDocSpellings(t *testing.T) {
	b, err := os.ReadFile("LANGUAGE.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "### Other spellings")
	end := strings.Index(doc[start+1:], "\n### ")
	if start < 0 || end < 0 {
		t.Fatal("LANGUAGE.md has no section Other spellings")
	}
	code := regexp.MustCompile("`([^`]+)`")
	codes := func(cell string) []string {
		var out []string
		for _, m := range code.FindAllStringSubmatch(cell, -1) {
			out = append(out, strings.ReplaceAll(m[1], `\|`, "|"))
		}
		return out
	}
	table, checked := 0, 0
	for _, line := range strings.Split(doc[start:start+1+end], "\n") {
		if strings.HasPrefix(line, "|---") {
			table++
		}
		cols := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `") || len(cols) != 2 {
			continue
		}
		written, right := codes(cols[0]), codes(cols[1])
		for i, w := range written {
			f, err := Parse(w, time.Time{})
			switch table {
			case 1:
				want := right[0]
				if len(right) == len(written) {
					want = right[i]
				}
				if err != nil || f.String() != want {
					t.Errorf("LANGUAGE.md: %q reads as %v %v, the doc says %q", w, f, err, want)
				}
			case 2:
				if err == nil {
					t.Errorf("LANGUAGE.md: %q is said to be refused; it reads as %q", w, f)
				}
			}
			checked++
		}
		if table == 2 {
			for _, r := range right {
				if _, err := Parse(r, time.Time{}); len(r) > 1 && err != nil {
					t.Errorf("LANGUAGE.md advises %q: %v", r, err)
				}
			}
		}
	}
	if checked < 25 {
		t.Errorf("only %d spellings found in LANGUAGE.md; did its tables change shape?", checked)
	}
}
