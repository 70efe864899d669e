package audit

import "bytes"

// Wants reports whether a line that a prefilter refused must be merged all
// the same: it carries the auditID of a request the store holds open. A
// prefilter decides on one line; a request is all its stages. A watch whose
// ResponseStarted said 200 is a 500 when its Panic says so, and the line
// that says so is the one a filter for code=200 refuses: without it the
// request would stay open (and in memory) and be answered by its earlier
// stage. Every engine that skips lines calls this, so a request it has
// begun is always read whole.
//
// It reads the auditID without parsing the line (a few dozen bytes in) and
// parses the line only when an escape could hide the key. Called by the
// store's one writer, between merges.
func (s *Store) Wants(line []byte) bool {
	if s.byID.n == 0 {
		return false
	}
	if id, ok := leadingAuditID(line); ok {
		return s.holdsOpen(bytesString(id))
	}
	found := false
	for rest := line; ; {
		i := bytes.Index(rest, auditIDKey)
		if i < 0 {
			break
		}
		rest = rest[i+len(auditIDKey):]
		j := skipSpace(rest, 0)
		if j >= len(rest) || rest[j] != ':' {
			continue // a string, not a key
		}
		j = skipSpace(rest, j+1)
		if j >= len(rest) || rest[j] != '"' {
			continue
		}
		end := bytes.IndexByte(rest[j+1:], '"')
		if end < 0 {
			break
		}
		id := rest[j+1 : j+1+end]
		if bytes.IndexByte(id, '\\') >= 0 {
			return s.wantsScanned(line) // an escaped ID (or a quote in it)
		}
		found = true
		if s.holdsOpen(bytesString(id)) {
			return true
		}
		rest = rest[j+1+end:]
	}
	if !found && bytes.Contains(line, []byte(`\u00`)) {
		return s.wantsScanned(line) // the key itself may be spelled with escapes
	}
	return false
}

var auditIDKey = []byte(`"auditID"`)

// wantsScanned is Wants for a line whose auditID only the scanner can read.
func (s *Store) wantsScanned(line []byte) bool {
	var e rawEvent
	if !scanEventBytes(line, &e) || e.auditID == "" {
		return false
	}
	return s.holdsOpen(s.unescaped(e.auditID, e.esc&(1<<fAuditID) != 0))
}

// holdsOpen reports whether a request with this auditID is not done.
func (s *Store) holdsOpen(id string) bool {
	n := 0
	for r := s.byID.get(idHash(id), id); r != nil && !r.forgotten && n < maxSameID; r, n = r.prevSameID, n+1 {
		if !r.Done() {
			return true
		}
	}
	return false
}

// eventHead is how kube-apiserver begins every event line: the keys before
// auditID are these, with plain values, so the first "auditID" of such a
// line is the event's own and not one in a body further on.
var eventHead = []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"`)

// leadingAuditID reads the auditID of a line that begins as the apiserver
// writes it, without looking further into the line; ok is false for any
// other line (the caller then looks at every "auditID" key in it).
func leadingAuditID(line []byte) (id []byte, ok bool) {
	if !bytes.HasPrefix(line, eventHead) {
		return nil, false
	}
	rest := line[len(eventHead):]
	i := bytes.IndexByte(rest, '"')
	if i < 0 || bytes.IndexByte(rest[:i], '\\') >= 0 {
		return nil, false
	}
	rest = rest[i:]
	const key = `","auditID":"`
	if !bytes.HasPrefix(rest, []byte(key)) {
		return nil, false
	}
	rest = rest[len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return nil, false
	}
	return rest[:j], true
}
