package source

import (
	"bytes"

	"github.com/kauditui/kauditui/audit"
)

// Spliced lines. The container runtime cuts a stdout line longer than its
// record size (containerd 16 KiB, CRI-O 8 KiB) into P records, and the
// apiserver's stderr (klog) is a stream of its own: a stderr record may
// land between two P records of one audit event. The CRI log is right (a
// reader joins the P records of one stream, see reader.line), but the text
// the kubelet serves (kubectl logs, the pods' log API) writes the records
// in file order, so the event's line holds the klog line after its first
// part, and the rest of the event comes on a line of its own after the
// stderr lines:
//
//	{"kind":"Event",…(P records)…I1206 10:15:36.963858   29865 httplog.go:135] "HTTP" …
//	I1206 10:15:36.964001   29865 httplog.go:135] "HTTP" …     (more stderr records, if any)
//	…(the rest of the event)…}
//
// (with --timestamps the kubelet puts its time before the lines that start
// a record after a full one: before the second and third lines, not before
// the klog part of the first). The rest may be cut again by more stderr
// records.
//
// The repair: a line that starts like JSON, is not valid, and holds a klog
// header where the JSON breaks (not after audit.ValidUpTo; klogCut says
// which when there are several) is held; its part before the header is the
// event so far. Each following line (after its timestamp in a --timestamps
// view) is tried as the event's rest: when the joined text is valid JSON it
// is the event, read as any line (spooled: it is not one range of the
// input), and the klog parts and the stderr lines between are read as the
// lines they are, before it. A following line that holds a klog header
// where the joined text breaks is another cut (its part before the header
// goes to the event); any other line is a stderr line, held. A line that
// starts a new JSON value, too many lines or bytes, a line too long, or the
// end of the input give up: the held lines are then read exactly as they
// would have been (the first one an "invalid JSON" other line). A valid
// line is never looked at; a repair gives valid JSON or nothing. CRI inputs
// (joined per stream), pretty JSON and export records are not concerned.
//
// Not repaired (stays broken, as before): a klog line longer than a record,
// whose own P records interleave with the event's (the klog text then sits
// inside the event's line). Where the cut is ambiguous (free text in a
// string and in a klog message), klogCut's choice can be wrong and still
// make valid JSON: a klog header's text at a multiple of 8 KiB in an
// event's string, on a runtime whose record did not end there (a piece of
// the string is then read as klog), or in a klog message without a quote
// before it on one whose records are not 8 KiB multiples.

// maxSpliceLines bounds the stderr lines held between two parts of an event.
const maxSpliceLines = 64

type splice struct {
	json    []byte    // the event so far
	first   []byte    // the spliced line (after any timestamp)
	at      audit.Ref // its ref in the input
	ref     audit.Ref // its ref as an other line (spooled when not in place)
	klog    audit.Ref // its klog part's ref
	inPlace bool
	cut     int // where its klog part starts
	lines   []splicedLine
	size    int
}

// splicedLine is a line read after the spliced one.
type splicedLine struct {
	text    []byte // as handed to text (with its timestamp)
	ref     audit.Ref
	inPlace bool
	klog    []byte // a cut: the klog part (the event's part went to json)
	klogRef audit.Ref
}

// spliceable says whether this input's broken lines may be spliced ones.
func (r *reader) spliceable() bool {
	return !r.in.cri && !r.in.pretty && !r.unwrapping
}

// klogCut returns where a klog header starts in text after offset 0 and at
// or before upTo, or -1. Where several could be the one (a header's text in
// a string of the event, or in the klog message), the runtime's record size
// decides: the last one at a multiple of 8 KiB (containerd's records are 16
// KiB, CRI-O's 8 KiB reads), else the last one.
func klogCut(text []byte, upTo int) int {
	upTo = min(upTo, len(text)-22)
	// a header is looked for in a window: a line of many header-like
	// starts without the ']' after them costs no more than one pass
	header := func(k int) bool { return isKlogHeader(text[k:min(len(text), k+klogHeaderMax)]) }
	for k := upTo / recordAlign * recordAlign; k >= recordAlign; k -= recordAlign {
		if header(k) {
			return k
		}
	}
	for k := upTo; k >= 1; k-- {
		switch text[k] {
		case 'I', 'W', 'E', 'F':
			if header(k) {
				return k
			}
		}
	}
	return -1
}

// klogHeaderMax bounds a klog header up to its "] " (the file:line of a
// real one is a short base name).
const klogHeaderMax = 512

// recordAlign is the size that the runtimes' P records are multiples of.
const recordAlign = 8 << 10

// maySplice says, for a line that Options.Keep refused, whether it may be a
// spliced event (whose rest Keep has not seen): it does not end like an
// event and holds a klog header. Event lines end with '}': the cost on them
// is one byte.
func (r *reader) maySplice(text []byte) bool {
	t := bytes.TrimRight(text, " \t\r")
	return len(t) > 0 && t[len(t)-1] != '}' && r.spliceable() && klogCut(t, len(t)) > 0
}

// startSplice holds a line that is not valid JSON when it may be a spliced
// event; false when it is not one (no klog header where the JSON breaks).
// at is its ref in the input (after any timestamp), other the ref it is
// recorded with as an other line.
func (r *reader) startSplice(text []byte, at, other audit.Ref, inPlace bool) bool {
	if !r.spliceable() {
		return false
	}
	k := klogCut(text, audit.ValidUpTo(text))
	if k < 0 {
		return false
	}
	first := bytes.Clone(text)
	kref := at
	if inPlace {
		kref.Off += int64(k)
	}
	kref.Len = int32(len(text) - k)
	r.sp = &splice{json: append(make([]byte, 0, 2*k), text[:k]...), first: first, at: at, ref: other, klog: kref, inPlace: inPlace, cut: k, size: len(text)}
	return true
}

// spliced hands a line to the spliced event being held; false when the
// line is not part of it (it is then read as any line).
func (r *reader) spliced(text []byte, ref audit.Ref, inPlace bool) bool {
	for r.sp != nil {
		if r.spliceNext(text, ref, inPlace) {
			return true
		}
		r.spliceFail() // may hold another spliced line
	}
	return false
}

// spliceNext tries text as the rest of the held event; true when it took
// it (the event is read, or the line held), false when the repair fails.
func (r *reader) spliceNext(text []byte, ref audit.Ref, inPlace bool) bool {
	sp := r.sp
	body, skip := text, 0
	if r.export == exportTimestamps {
		if _, rest, ok := tsPrefix(text, true); ok {
			body, skip = rest, len(text)-len(rest)
		}
	}
	n := len(sp.json)
	if n+len(body) > r.set.opt.MaxLine || sp.size+len(text) > r.set.opt.MaxLine {
		return false
	}
	sp.json = append(sp.json, body...)
	if audit.ValidJSON(sp.json) {
		r.spliceDone()
		return true
	}
	hold := splicedLine{text: bytes.Clone(text), ref: ref, inPlace: inPlace}
	if !isKlogHeader(body) {
		if k := klogCut(body, audit.ValidUpTo(sp.json)-n); k > 0 {
			// cut again: the event goes on in body[:k]
			sp.json = sp.json[:n+k]
			hold.klog = hold.text[skip+k:]
			hold.klogRef = ref
			if inPlace {
				hold.klogRef.Off += int64(skip + k)
			}
			hold.klogRef.Len = int32(len(body) - k)
			sp.lines = append(sp.lines, hold)
			sp.size += len(text)
			return true
		}
	}
	sp.json = sp.json[:n]
	if startsJSON(body) || len(sp.lines) >= maxSpliceLines {
		return false // stdout went on: this is not the rest
	}
	sp.lines = append(sp.lines, hold) // a stderr line between the parts
	sp.size += len(text)
	return true
}

// spliceDone reads the repaired event: the klog parts and the stderr lines
// held, in their order, then the event itself.
func (r *reader) spliceDone() {
	sp := r.sp
	r.sp = nil
	pre := r.pre
	r.pre = nil
	defer func() { r.pre = pre }()
	r.text(sp.first[sp.cut:], sp.klog, sp.inPlace)
	for _, h := range sp.lines {
		if h.klog != nil {
			r.text(h.klog, h.klogRef, h.inPlace)
		} else {
			r.text(h.text, h.ref, h.inPlace)
		}
	}
	ref := sp.at // not one range of the input: jsonLine spools it
	ref.Len = int32(min(len(sp.json), 1<<31-1))
	r.flushKlog()
	r.jsonLine(sp.json, ref, false)
}

// spliceFail gives up the held event: its lines are read as they would
// have been without the repair.
func (r *reader) spliceFail() {
	sp := r.sp
	r.sp = nil
	pre := r.pre
	r.pre = nil
	defer func() { r.pre = pre }()
	if r.firstOther == nil {
		r.firstOther = append([]byte{}, sp.first[:min(len(sp.first), 200)]...)
	}
	r.other(sp.ref, whyOther(kindBadJSON))
	for _, h := range sp.lines {
		r.text(h.text, h.ref, h.inPlace)
	}
}

// endSplice gives up what is held at the end of an input.
func (r *reader) endSplice() {
	for r.sp != nil {
		r.spliceFail()
	}
}
