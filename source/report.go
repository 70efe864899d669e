package source

import (
	"strings"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
)

// What the inputs held, for people: why an answer is empty, and which
// inputs gave it nothing.

// Empty reports whether the inputs held nothing the answer reads (audit
// events, or with klog the apiserver's log lines), and then why nothing
// can match: what each input looks like, and whether they hold something
// else (a format kauditui does not read) rather than nothing.
func (s *Set) Empty(snap audit.Snapshot, klog bool) (empty bool, what string, other bool) {
	if snap.Events > 0 || snap.Duplicates > 0 || s.Skipped() > 0 || klog && len(snap.Klog) > 0 {
		return false, "", false
	}
	var holds []string
	for _, in := range s.Inputs() {
		if in.Looks != "" {
			holds = append(holds, render.Sanitize(in.Name)+" holds "+render.Sanitize(in.Looks))
		}
		other = other || in.Klog > 0 || in.Other > 0
	}
	return true, strings.Join(holds, "; "), other
}

// Unused names, one line each ("NAME: not used: WHY"), the inputs that gave
// the answer nothing while others did: a backup that holds klog lines,
// legacy lines or nothing would otherwise pass unseen in a merged answer.
func (s *Set) Unused(klog bool) []string {
	var out []string
	for _, in := range s.Inputs() {
		var why string
		switch {
		case klog:
			if in.Klog == 0 && !in.Failed {
				why = "it holds no apiserver log line"
			}
		case in.Events > 0 || in.Skipped > 0:
		case in.Failed || in.Looks == "":
			// failed or not readable at all: a warning said so already
		default:
			why = "it holds " + in.Looks
		}
		if why != "" {
			out = append(out, render.Sanitize(in.Name)+": not used: "+render.Sanitize(why))
		}
	}
	return out
}

// WhyEmpty is Empty as the message of a query's error: "" when the inputs
// held something the answer reads; else why nothing can match, and
// whether the inputs hold another format (a usage error) rather than
// nothing (no match).
func (s *Set) WhyEmpty(snap audit.Snapshot, klog bool) (msg string, otherFormat bool) {
	empty, what, other := s.Empty(snap, klog)
	if !empty {
		return "", false
	}
	msg = "query: no audit events: " + what
	if klog {
		msg = "query: no apiserver log lines: " + what
	}
	if other {
		msg += " (kauditui reads audit.k8s.io/v1 events as JSON, one per line as --audit-log-format=json writes them, or a stream of JSON values; also as EKS, AKS and GKE export them, and kubectl logs --timestamps)"
	}
	return msg, other
}
