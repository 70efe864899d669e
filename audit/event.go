package audit

import (
	"time"

	"github.com/tidwall/gjson"
)

// Event is the part of one audit event line that the model uses.
type Event struct {
	AuditID string
	Level   string
	Stage   string

	Received time.Time
	StageAt  time.Time

	User, UA, Verb, URI           string
	Groups, SourceIPs             []string
	ImpUser                       string
	ImpGroups                     []string
	Group, Version, Resource, Sub string
	Namespace, Name               string
	Code                          int
	Message                       string
	Decision, Reason              string
}

var eventPaths = []string{
	"kind", "apiVersion", "auditID", "level", "stage",
	"requestReceivedTimestamp", "stageTimestamp",
	"user.username", "user.groups", "impersonatedUser.username", "impersonatedUser.groups",
	"sourceIPs", "userAgent", "verb", "requestURI",
	"objectRef.apiGroup", "objectRef.apiVersion", "objectRef.resource", "objectRef.subresource",
	"objectRef.namespace", "objectRef.name",
	"responseStatus.code", "responseStatus.message",
	`annotations.authorization\.k8s\.io/decision`, `annotations.authorization\.k8s\.io/reason`,
}

// IsEvent reports whether a JSON line is an audit event (kind Event,
// apiVersion audit.k8s.io/*).
func IsEvent(line []byte) bool {
	r := gjson.GetManyBytes(line, "kind", "apiVersion")
	return r[0].Str == "Event" && len(r[1].Str) > 13 && r[1].Str[:13] == "audit.k8s.io/"
}

// ParseEvent reads one audit event line. ok is false when the line is not a
// JSON audit event.
func ParseEvent(line []byte) (ev Event, ok bool) {
	if !gjson.ValidBytes(line) {
		return ev, false
	}
	r := gjson.GetManyBytes(line, eventPaths...)
	if r[0].Str != "Event" || len(r[1].Str) < 13 || r[1].Str[:13] != "audit.k8s.io/" {
		return ev, false
	}
	ev.AuditID = r[2].Str
	ev.Level = r[3].Str
	ev.Stage = r[4].Str
	ev.Received, _ = time.Parse(time.RFC3339Nano, r[5].Str)
	ev.StageAt, _ = time.Parse(time.RFC3339Nano, r[6].Str)
	ev.User = r[7].Str
	ev.Groups = strings(r[8])
	ev.ImpUser = r[9].Str
	ev.ImpGroups = strings(r[10])
	ev.SourceIPs = strings(r[11])
	ev.UA = r[12].Str
	ev.Verb = r[13].Str
	ev.URI = r[14].Str
	ev.Group = r[15].Str
	ev.Version = r[16].Str
	ev.Resource = r[17].Str
	ev.Sub = r[18].Str
	ev.Namespace = r[19].Str
	ev.Name = r[20].Str
	ev.Code = int(r[21].Int())
	ev.Message = r[22].Str
	ev.Decision = r[23].Str
	ev.Reason = r[24].Str
	return ev, true
}

func strings(r gjson.Result) []string {
	if !r.IsArray() {
		return nil
	}
	var out []string
	r.ForEach(func(_, v gjson.Result) bool {
		out = append(out, v.String())
		return true
	})
	return out
}

// mergeInto folds one stage into its request: the first non-empty value of
// each field wins, except stage, time and status, which follow the latest stage.
func (ev *Event) mergeInto(r *Request, ref Ref) {
	first := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	first(&r.AuditID, ev.AuditID)
	first(&r.Level, ev.Level)
	first(&r.User, ev.User)
	first(&r.ImpersonatedUser, ev.ImpUser)
	first(&r.UserAgent, ev.UA)
	first(&r.Verb, ev.Verb)
	first(&r.RequestURI, ev.URI)
	first(&r.APIGroup, ev.Group)
	first(&r.APIVersion, ev.Version)
	first(&r.Resource, ev.Resource)
	first(&r.Subresource, ev.Sub)
	first(&r.Namespace, ev.Namespace)
	first(&r.Name, ev.Name)
	first(&r.Decision, ev.Decision)
	first(&r.Reason, ev.Reason)
	if r.Groups == nil {
		r.Groups = ev.Groups
	}
	if r.ImpersonatedGroups == nil {
		r.ImpersonatedGroups = ev.ImpGroups
	}
	if r.SourceIPs == nil {
		r.SourceIPs = ev.SourceIPs
	}
	if r.First.IsZero() || (!ev.Received.IsZero() && ev.Received.Before(r.First)) {
		r.First = ev.Received
	}
	if ev.StageAt.After(r.Last) || r.Last.IsZero() {
		r.Last = ev.StageAt
		r.Stage = ev.Stage
	}
	if ev.Code != 0 {
		r.Code = ev.Code
		r.Message = ev.Message
	}
	r.Events = append(r.Events, EventRef{Ref: ref, Stage: ev.Stage, At: ev.StageAt})
}
