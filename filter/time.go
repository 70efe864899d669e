package filter

import (
	"strings"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// --- since / until ---------------------------------------------------------

// timePred keeps requests received at or after t (since) or at or before t
// (until). t is already widened to what the value means: a time is the
// whole span its precision names (until=10:00:01 is every request of that
// second, as a table that shows seconds shows it), and the model keeps
// microseconds, so since's t is on a microsecond and until's t is the last
// nanosecond of one. The prefilter compares logged times (nanoseconds)
// with t the same way, so it never drops a line Match would keep.
type timePred struct {
	t     time.Time
	since bool
}

func (p *timePred) match(r *audit.Request) bool {
	if r.First().IsZero() {
		return false
	}
	if p.since {
		return !r.First().Before(p.t)
	}
	return !r.First().After(p.t)
}

// timeLayouts are the times since= and until= read, the date and time
// apart by T or a space (what a table shows), each with its precision.
// A zone (Z, +01:00, or +00:17:30 for an odd historic offset) may follow
// the time of day; without one, the time is read in now's location, the
// zone times are shown in (--tz).
var timeLayouts = []struct {
	layout string
	zone   bool
	prec   time.Duration // 0: a fraction of a second, as many digits as given; -1: a day
}{
	{"2006-01-02T15:04:05.999999999Z07:00", true, 0},
	{"2006-01-02T15:04:05.999999999Z07:00:00", true, 0},
	{"2006-01-02T15:04:05.999999999", false, 0},
	{"2006-01-02T15:04Z07:00", true, time.Minute},
	{"2006-01-02T15:04Z07:00:00", true, time.Minute},
	{"2006-01-02T15:04", false, time.Minute},
	{"2006-01-02", false, -1},
}

// parseTimeValue reads a time value: its start and the span it names.
func parseTimeValue(s string, loc *time.Location) (start, end time.Time, ok bool) {
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	for _, l := range timeLayouts {
		var at time.Time
		var err error
		if l.zone {
			at, err = time.Parse(l.layout, s)
		} else {
			at, err = time.ParseInLocation(l.layout, s, loc)
		}
		if err != nil {
			continue
		}
		switch {
		case l.prec > 0:
			return at, at.Add(l.prec), true
		case l.prec < 0:
			return at, at.AddDate(0, 0, 1), true // a day of loc: 23 or 25 hours across a DST change
		}
		return at, at.Add(fractionPrecision(s)), true
	}
	return time.Time{}, time.Time{}, false
}

// fractionPrecision is the span of the last digit of a time with seconds:
// a second without a fraction, a millisecond for three digits.
func fractionPrecision(s string) time.Duration {
	i := strings.IndexAny(s[min(len(s), 19):], ".,")
	if i < 0 {
		return time.Second
	}
	prec := time.Second
	for _, c := range s[19+i+1:] {
		if c < '0' || c > '9' {
			break
		}
		prec /= 10
	}
	return max(prec, time.Nanosecond)
}

// sinceBound and untilBound widen a span's ends to the model's
// microseconds (see timePred).
func sinceBound(start time.Time) time.Time { return start.Truncate(time.Microsecond) }

func untilBound(end time.Time) time.Time {
	return end.Add(-time.Nanosecond).Truncate(time.Microsecond).Add(time.Microsecond - time.Nanosecond)
}

func compileTime(since bool) func(*term) (pred, *syntaxError) {
	return func(t *term) (pred, *syntaxError) {
		const expected = "a duration before now like 30m, 2h, 7d, or a time like 2026-11-26T10:00:00Z"
		if t.op != "=" {
			return nil, t.fail(t.opPos, "= (since and until take one time: since=2h)")
		}
		if len(t.values) != 1 {
			return nil, t.fail(t.values[1].pos-1, "one time (no commas)")
		}
		v := t.values[0]
		s, plain := v.literal()
		if !plain {
			return nil, t.fail(v.pos, expected)
		}
		var start, end time.Time
		if d, ok := parseDuration(s); ok {
			start = t.now.Add(-d)
			end = start.Add(time.Nanosecond)
		} else if start, end, ok = parseTimeValue(s, t.now.Location()); !ok {
			return nil, t.fail(v.pos, expected)
		}
		if since {
			return &timePred{t: sinceBound(start), since: true}, nil
		}
		return &timePred{t: untilBound(end)}, nil
	}
}
