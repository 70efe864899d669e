package filter

import (
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Counting in the store. Query selects every event of the requests that may
// match, and kauditui merges and checks them; a count must instead be right
// as the store computes it. Requests therefore selects one event per
// request, its last stage, and applies the whole filter to that event:
//
//   - a request's last stage is its ResponseComplete or Panic, else its
//     ResponseStarted (a failed authentication, a watch still open), else
//     its RequestReceived (a request still in flight);
//   - in logs a kube-apiserver wrote, the last stage carries every field of
//     its request, with the values the earlier stages had (the user, verb
//     and URI of every stage agree, or audit.Store makes them two requests),
//     and the values only it has (code, decision, reason, message, stage);
//   - bare words select the requests with any event whose line holds them.
//
// That is the request audit.Store merges only when each auditID is one
// request: StatsChecks asks the store whether it is (StoreStats.Exact reads
// the answer), and a filter with terms only kauditui can check (Local) is
// not counted in the store at all.

// lastStageOf is the LogsQL filter of the events that are the last stage of
// their request, among the events common selects. One subquery reads the
// store's end stages (most of its events); the other, its few
// ResponseStarted.
func lastStageOf(common string) string {
	ends := "stage:in(ResponseComplete,Panic)"
	return "(" + ends + " OR (stage:in(ResponseStarted,RequestReceived) -auditID:in(" + common + " " + ends + " | fields auditID)" +
		" (stage:=ResponseStarted OR -auditID:in(" + common + " stage:=ResponseStarted | fields auditID))))"
}

// Requests is the LogsQL filter (no pipes) of one event per request that
// the filter matches, its last stage, in streams; why says what keeps the
// store from counting exactly when it cannot ("" when it can).
func (q *LogsQL) Requests(streams string) (query, why string) {
	if len(q.Local) > 0 {
		return "", "the store cannot say " + strings.Join(q.Local, " ") + " (kauditui checks it on the requests it reads)"
	}
	c := q.common(streams)
	last := lastStageOf(c)
	parts := []string{c, last}
	if !q.Since.IsZero() {
		// since= is on the request's receive time, which _time (the stage's)
		// only bounds.
		parts = append(parts, lqReceived+":>="+strconv.Quote(receivedText(q.Since, true)))
	}
	parts = append(parts, q.Stage...)
	for _, w := range q.Words {
		parts = append(parts, "auditID:in("+c+" "+w+" | fields auditID)")
	}
	return strings.Join(parts, " "), ""
}

// common is the filter every event of a request that may match passes:
// the streams, since= (no stage comes before its request was received)
// and AuditEvents.
func (q *LogsQL) common(streams string) string {
	var common []string
	if streams != "" {
		common = append(common, streams)
	}
	if !q.Since.IsZero() {
		common = append(common, "_time:>="+q.Since.UTC().Format(time.RFC3339Nano))
	}
	return strings.Join(append(common, AuditEvents), " ")
}

// receivedText writes t as kube-apiserver writes requestReceivedTimestamp
// (UTC, six digits of fraction), so that the store's comparison of the
// text is the comparison of the times (StatsChecks counts the events whose
// time is written otherwise). up rounds a time within a microsecond up.
func receivedText(t time.Time, up bool) string {
	u := t.UTC().Truncate(time.Microsecond)
	if up && u.Before(t) {
		u = u.Add(time.Microsecond)
	}
	return u.Format("2006-01-02T15:04:05.000000Z")
}

// receivedFormat is how kube-apiserver writes requestReceivedTimestamp.
const receivedFormat = `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$`

// StatsChecks are the queries (over Filter's events: every event of the
// requests that may match) whose answer rows say whether the store's
// counts are kauditui's; StatsExact reads them. The first asks whether each
// auditID is one request, as audit.Store merges them (audit/store.go,
// owner): no two stages of one kind under one auditID (a second one is
// another request, or the same line sent twice), one identity (verb, URI,
// user and receive time) per auditID, and no stage that is not one of the
// four. The second asks, for each field the filter reads (Reads) and more
// (what --top groups by), whether the last stage holds the value
// audit.Store gives the request, whichever stage it takes it from: that the
// stages of a request that carry the field agree on it, and that the last
// stage carries it when any stage does.
func (q *LogsQL) StatsChecks(streams string, more []string) []string {
	return q.statsChecks(streams, more, true)
}

// FieldChecks is the second query of StatsChecks alone, for the fields
// more (the requests' identity checked already).
func (q *LogsQL) FieldChecks(streams string, more []string) []string {
	return q.statsChecks(streams, more, false)
}

func (q *LogsQL) statsChecks(streams string, more []string, whole bool) []string {
	if !whole {
		q = &LogsQL{Since: q.Since, Stage: q.Stage, Words: q.Words, Local: q.Local}
	}
	out := []string{q.Filter(streams) + " | stats count() as events, count_uniq(auditID) as ids," +
		" count_uniq(auditID, stage) as idstages," +
		" count_uniq(auditID, verb, requestURI, user.username, requestReceivedTimestamp) as identities," +
		" count() if (stage:in(ResponseComplete,Panic)) as ends, count_uniq(auditID) if (stage:in(ResponseComplete,Panic)) as endids," +
		" count() if (-stage:in(RequestReceived,ResponseStarted,ResponseComplete,Panic)) as otherstages," +
		" count() if (auditID:=\"\") as noid," +
		" count() if (-" + lqReceived + ":~" + strconv.Quote(receivedFormat) + ") as othertimes"}
	if whole && slices.Contains(q.Reads, "stage") {
		// stage= is the stage logged last in time (ties to the later in a
		// request's life): the last stage by kind when no stage was logged
		// before one that comes earlier in a request's life (_time is the
		// stage's time; lt_field compares times as times)
		out = append(out, q.Filter(streams)+" | stats by (auditID) max(_time) if (stage:in(ResponseComplete,Panic)) as e,"+
			" max(_time) if (stage:=ResponseStarted) as s, max(_time) if (stage:=RequestReceived) as r"+
			" | filter (e:* s:* e:lt_field(s)) OR (e:* r:* e:lt_field(r)) OR (s:* r:* s:lt_field(r)) | stats count() as outoforder")
	}
	if !whole {
		out = nil
	} else if fold := q.folded(); len(fold) > 0 {
		var odd []string
		for i, f := range fold {
			odd = append(odd, "count() if ("+fieldName(f)+":~"+strconv.Quote(unicodeFolds)+") as fold"+strconv.Itoa(i))
		}
		out = append(out, q.Filter(streams)+" | stats "+strings.Join(odd, ", "))
	}
	fields := q.checked(more)
	if len(fields) == 0 {
		return out
	}
	var agree, last []string
	for i, f := range fields {
		n, has := strconv.Itoa(i), fieldName(f)+":*"
		agree = append(agree, "count_uniq(auditID, "+fieldName(f)+") if ("+has+") as v"+n, "count_uniq(auditID) if ("+has+") as with"+n)
		last = append(last, "count() if ("+has+") as last"+n)
	}
	c := q.common(streams)
	return append(out, q.Filter(streams)+" | stats "+strings.Join(agree, ", "),
		q.Filter(streams)+" "+lastStageOf(c)+" | stats "+strings.Join(last, ", "))
}

// unicodeFolds matches the letters a regular expression's (?i) takes for
// ASCII letters (KELVIN SIGN for k, LONG S for s): the store's case-blind
// match of a term takes them in, kauditui's (ASCII) does not.
const unicodeFolds = "[\u212a\u017f]"

// folded are the fields the filter's terms match case-blind in the store:
// those of Reads, and the lines for bare words.
func (q *LogsQL) folded() []string {
	out := slices.Clone(q.Reads)
	if len(q.Words) > 0 {
		out = append(out, "_msg")
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checked are the fields StatsChecks checks value by value: Reads and
// more, but the identity, which the first query checks whole.
func (q *LogsQL) checked(more []string) []string {
	var out []string
	for _, f := range append(append([]string(nil), q.Reads...), more...) {
		switch f {
		case "verb", "requestURI", lqUser, lqReceived, "stage":
			continue
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// StatsExact reads the answers of StatsChecks (their fields by name): why
// the store's counts of requests would differ from kauditui's, or "". times
// asks also that every receive time be written as kube-apiserver writes it
// (a filter on times, a histogram by receive time).
func (q *LogsQL) StatsExact(field func(name string) int64, times bool, more []string) string {
	n := func(name string) string { return strconv.FormatInt(field(name), 10) }
	times = times || !q.Since.IsZero() || slices.Contains(q.Reads, lqReceived) // compared as text
	switch {
	case field("noid") > 0:
		return n("noid") + " events have no auditID"
	case field("otherstages") > 0:
		return n("otherstages") + " events have a stage that is none of RequestReceived, ResponseStarted, ResponseComplete, Panic"
	case field("idstages") != field("events"):
		return strconv.FormatInt(field("events")-field("idstages"), 10) + " events repeat a stage of their auditID (a line sent twice, or a client reusing an auditID)"
	case field("identities") != field("ids"):
		return "some auditIDs name more than one request (a client reusing an auditID)"
	case field("ends") != field("endids"):
		return "some requests both completed and panicked"
	case times && field("othertimes") > 0:
		return n("othertimes") + " events have a receive time not written as kube-apiserver writes it"
	case slices.Contains(q.Reads, "stage") && field("outoforder") > 0:
		return n("outoforder") + " requests logged a stage at a time before a stage that comes earlier in a request's life (stage= is the stage logged last)"
	}
	for i, f := range q.folded() {
		if field("fold"+strconv.Itoa(i)) > 0 {
			return "some " + f + " values hold a letter (K or ſ) the store's case-blind match takes for k or s, and kauditui's does not"
		}
	}
	for i, f := range q.checked(more) {
		k := strconv.Itoa(i)
		switch {
		case field("v"+k) != field("with"+k):
			return "the stages of some requests disagree on " + f
		case field("last"+k) != field("with"+k):
			return "some requests have " + f + " in a stage but not in their last one"
		}
	}
	return ""
}

// TopStoreFields are the store's fields that decide what --top counts under
// field (one of TopFields), or nil when the store cannot group by it.
func TopStoreFields(field string) []string {
	switch field {
	case "user":
		return []string{lqUser, lqImpUser}
	case "verb":
		return []string{"verb"}
	case "resource":
		return []string{"objectRef.apiGroup", "objectRef.resource", "objectRef.subresource"}
	case "ns":
		return []string{"objectRef.namespace"}
	case "code":
		return []string{lqCode}
	case "agent":
		return []string{"userAgent"}
	case "cred":
		return []string{CredentialField}
	}
	return nil
}

// ReceivedField is the store's field of the receive time.
const ReceivedField = lqReceived

// CredentialField is the flattened field of the credential id (a JSON
// array of one string, as the store keeps arrays).
const CredentialField = "user.extra.authentication.kubernetes.io/credential-id"

// HistogramStep is the stats grouping of the receive time in steps of step,
// aligned as time.Time.Truncate aligns them (on the zero time, not on the
// Unix epoch, which differ for a step that does not divide a day).
func HistogramStep(step time.Duration) string {
	s := lqReceived + ":" + step.String()
	// VictoriaLogs starts a step at offset before an epoch-aligned one: the
	// epoch, in ns from the zero time, modulo step
	epoch := new(big.Int).Mul(big.NewInt(-time.Time{}.Unix()), big.NewInt(int64(time.Second)))
	if off := new(big.Int).Mod(epoch, big.NewInt(int64(step))).Int64(); off != 0 {
		s += " offset " + time.Duration(off).String()
	}
	return s
}

// Latencies in the store. A request's latency is its latest stageTimestamp
// less its requestReceivedTimestamp (audit.Request.Latency). The store may
// have taken stageTimestamp as its _time, or kept another time there: it
// is read from the event's line (_msg), which is what kauditui reads too.
// The store's math is on float64 nanoseconds (within 256 ns of the times of
// this century), rounded to the microsecond the times are written in: the
// exact difference, when both times are written as kube-apiserver writes
// them (LatencyChecks).

// lineStage is the stageTimestamp of each event's line, as lineStageField.
const lineStage = ` | unpack_json from _msg fields (stageTimestamp) result_prefix "kt_"`

const lineStageField = "kt_stageTimestamp"

// LatencyPipes computes, for the events before them, the latency of their
// request in microseconds as the field lat, when the event is its
// request's last stage and that stage is its latest in time (LatencyChecks
// says it is): NaN where a time cannot be read.
const LatencyPipes = lineStage + " | math round((" + lineStageField + " - " + lqReceived + ") / 1000) as lat"

// LatencyChecks are the queries (over Filter's events, like StatsChecks)
// whose answer row says whether LatencyPipes on the last stage of each
// request is kauditui's latency (LatencyExact reads it): that every
// event's line writes its stageTimestamp as kube-apiserver does (UTC,
// microseconds), and that no request logged a stage at a time after a
// stage that comes later in a request's life (the last stage's time is
// then the latest, the one kauditui takes).
func (q *LogsQL) LatencyChecks(streams string) []string {
	ts := func(cond, as string) string { return "max(" + lineStageField + ") if (" + cond + ") as " + as }
	return []string{q.Filter(streams) + lineStage + " | stats by (auditID) " +
		ts("stage:in(ResponseComplete,Panic)", "e") + ", " + ts("stage:=ResponseStarted", "s") + ", " + ts("stage:=RequestReceived", "r") + "," +
		" count() if (-" + lineStageField + ":~" + strconv.Quote(receivedFormat) + ") as odd" +
		" | stats count() if (odd:>0) as otherstagetimes," +
		" count() if ((e:* s:* e:lt_field(s)) OR (e:* r:* e:lt_field(r)) OR (s:* r:* s:lt_field(r))) as latelast"}
}

// LatencyExact reads the answer of LatencyChecks: why the store's latencies
// would not be kauditui's, or "".
func LatencyExact(field func(name string) int64) string {
	switch n := field("otherstagetimes"); {
	case n > 0:
		return strconv.FormatInt(n, 10) + " requests have a stage whose stageTimestamp is not written as kube-apiserver writes it"
	}
	if n := field("latelast"); n > 0 {
		return strconv.FormatInt(n, 10) + " requests logged a stage at a time after a stage that comes later in a request's life (the latency is to the latest)"
	}
	return ""
}
