// Package render turns a request into what every view shows of it: the
// columns of a request list (their titles, widths and which are wide-only),
// each cell's text, sanitised, and what it means for colour, and the time
// and latency formats. `kauditui query`'s table, the explorer's list and
// its detail header all draw from here, so a column changes in one place.
package render

import (
	"strconv"
	"strings"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// columnID names a column of a request list.
type columnID int

// The columns, in the order they are shown.
const (
	colTime columnID = iota
	colUser
	ColVerb
	colResource
	colTarget
	colCode
	ColLatency
	colSourceIP
	colAgent
	colCred
	colAuditID
)

// Column describes a column for both printers: the table `query` prints
// (Min, Want, Grow) and the explorer's list (Min, Max, Flex, Drop).
type Column struct {
	ID    columnID
	Title string
	Short string // the title when the column is narrower than Title
	Wide  bool   // only in wide output (-o wide, a wide terminal)
	Min   int    // never narrower than this, in cells
	Max   int    // the explorer never makes it wider (0: no limit)
	Want  int    // query --follow sizes it to this before any row is seen
	Flex  int    // its share of room to spare; > 0 also grows in query --follow
	Right bool   // right-aligned (numbers)
	Drop  int    // when the columns do not fit, the highest Drop goes first; 0 stays
}

// Columns lists the columns of a request list with its time column sized
// for layout; wide adds source IP, agent, auditID and the credential (which
// certificate or token the request came with).
func Columns(layout string, wide bool) []Column {
	tw := TimeWidth(layout)
	cols := []Column{
		{ID: colTime, Title: "TIME", Min: tw, Max: tw, Want: tw},
		{ID: colUser, Title: "USER", Min: 10, Max: 48, Want: 40, Flex: 3},
		{ID: ColVerb, Title: "VERB", Min: 6, Max: 16, Want: 6, Flex: 1},
		{ID: colResource, Title: "RESOURCE", Min: 8, Max: 40, Want: 40, Flex: 3},
		{ID: colTarget, Title: "NAMESPACE/NAME", Short: "NS/NAME", Min: 12, Want: 40, Flex: 4},
		{ID: colCode, Title: "CODE", Min: 4, Max: 4, Want: 4, Right: true},
		{ID: ColLatency, Title: "LATENCY", Min: 7, Max: 8, Want: 7, Right: true, Drop: 1},
	}
	if wide {
		cols = append(cols,
			Column{ID: colSourceIP, Title: "SOURCE-IP", Wide: true, Min: 9, Max: 15, Want: 15, Drop: 3},
			Column{ID: colAgent, Title: "AGENT", Wide: true, Min: 10, Max: 60, Want: 48, Flex: 2, Drop: 2},
			Column{ID: colCred, Title: "CRED", Wide: true, Min: 8, Max: 36, Want: 32, Flex: 1, Drop: 5},
			Column{ID: colAuditID, Title: "AUDIT-ID", Wide: true, Min: 36, Max: 36, Want: 36, Drop: 4})
	}
	return cols
}

// Kind says what a cell's text is, so each view can colour it its way.
type Kind uint8

// Cell kinds.
const (
	plain        Kind = iota
	Muted             // secondary: a URI standing in for a resource, IPs, agents
	Time              // a time
	Verb              // a verb (coloured by which verb)
	Code              // an HTTP status (coloured by class)
	Forbidden         // a status the authorizer gave (decision forbid)
	Latency           // a latency
	Slow              // a latency of a second or more, not a watch
	Impersonated      // the "(as user)" suffix
	Destructive       // a cell of a delete
)

// Cell is one cell: its sanitised text, a suffix that is cut first (the
// impersonated user, after the user), and what it means.
type Cell struct {
	Prefix     string // before Text, cut first from its start (an API group and its slash)
	Text       string
	Suffix     string
	Kind       Kind
	SuffixKind Kind
	// Middle cuts a long text in the middle, keeping both ends (service
	// account names and generated pod names differ at the end).
	Middle bool
	// Short stands for Text where Text does not fit: a service account
	// as sa:NAMESPACE:NAME. "" when there is none.
	Short string
}

// String is the whole text of the cell.
func (c Cell) String() string { return c.Prefix + c.Text + c.Suffix }

// Cells renders r into dst, one cell per column of cols; call it while r
// cannot change (under audit.Store.Read while a store is being loaded).
func Cells(r *audit.Request, cols []Column, layout string, dst []Cell) {
	base := plain
	if r.Verb == "delete" || r.Verb == "deletecollection" {
		base = Destructive
	}
	for i, c := range cols {
		var cell Cell
		switch c.ID {
		case colTime:
			cell = Cell{Text: FormatTime(r.First(), layout), Kind: Time}
		case colUser:
			cell = User(r)
			cell.Kind = base
		case ColVerb:
			cell = Cell{Text: Sanitize(r.Verb), Kind: Verb}
		case colResource:
			if r.Resource != "" {
				cell = resource(r)
				cell.Kind = base
			} else {
				cell = Cell{Text: Sanitize(URIPath(r.RequestURI())), Kind: Muted}
			}
		case colTarget:
			cell = Cell{Text: Sanitize(Target(r)), Kind: base, Middle: true}
		case colCode:
			cell = Cell{Text: CodeText(r.Code), Kind: Code}
			if r.Code == 0 {
				cell.Kind = Muted
			} else if r.Decision == "forbid" {
				cell.Kind = Forbidden
			}
		case ColLatency:
			lat := r.Latency()
			cell = Cell{Text: FormatLatency(lat), Kind: Latency}
			if lat >= time.Second && r.Verb != "watch" {
				cell.Kind = Slow
			}
		case colSourceIP:
			cell = Cell{Text: Sanitize(r.SourceIP()), Kind: Muted}
		case colAgent:
			cell = Cell{Text: Sanitize(r.UserAgent), Kind: Muted}
		case colAuditID:
			cell = Cell{Text: Sanitize(r.AuditID), Kind: Muted}
		case colCred:
			cell = Cell{Text: Sanitize(r.Credential()), Kind: Muted}
		}
		dst[i] = cell
	}
}

// resource is group/resource/subresource as the filter language writes it
// (apps/deployments/scale; the core group has none), the group a prefix.
func resource(r *audit.Request) Cell {
	res := r.Resource
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	c := Cell{Text: Sanitize(res)}
	if r.APIGroup != "" {
		c.Prefix = Sanitize(r.APIGroup) + "/"
	}
	return c
}

// User is the user cell: the user, "(none)" for a request no one was
// authenticated for, and " (as USER)" when it impersonated someone.
func User(r *audit.Request) Cell {
	user := r.User
	if user == "" {
		user = "(none)"
	}
	c := Cell{Text: Sanitize(user)}
	if sa, ok := strings.CutPrefix(user, "system:serviceaccount:"); ok {
		c.Middle, c.Short = true, "sa:"+Sanitize(sa)
	}
	if r.ImpersonatedUser != "" {
		c.Suffix, c.SuffixKind = " (as "+Sanitize(r.ImpersonatedUser)+")", Impersonated
	}
	return c
}

// Target is namespace/name, the namespace alone for a request on a
// collection, the name alone for a cluster-scoped object, and a namespace
// object once (team-a, not team-a/team-a). Not sanitised.
func Target(r *audit.Request) string {
	switch {
	case r.Resource == "namespaces" && r.Subresource == "" && r.Name != "" && (r.Namespace == "" || r.Namespace == r.Name):
		return r.Name
	case r.Namespace != "" && r.Name != "":
		return r.Namespace + "/" + r.Name
	case r.Namespace != "":
		return r.Namespace
	}
	return r.Name
}

// CodeText is the status code, or "-" when no stage carried one yet.
func CodeText(code int) string {
	if code == 0 {
		return "-"
	}
	return strconv.Itoa(code)
}

// FormatLatency is a short duration: 850µs, 12ms, 1.2s, 3m4s.
func FormatLatency(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	default:
		return d.Truncate(time.Second).String()
	}
}

// URIPath is a request URI without its query.
func URIPath(uri string) string {
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		return uri[:i]
	}
	return uri
}
