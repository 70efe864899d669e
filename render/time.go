package render

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The zone every time is shown in, and a zone-less time typed into a
// filter is read in (the caller hands filter.Parse a now in Zone()): UTC
// unless --tz says otherwise. Every shown time carries its offset (Z for
// UTC), so a time copied from the screen means the same wherever it is
// pasted.
var zone atomic.Pointer[time.Location]

// SetZone sets the zone times are shown in; nil is UTC. Commands set it
// once, before anything is drawn.
func SetZone(loc *time.Location) {
	if loc == nil {
		loc = time.UTC
	}
	zone.Store(loc)
}

// Zone is the zone times are shown in.
func Zone() *time.Location {
	if loc := zone.Load(); loc != nil {
		return loc
	}
	return time.UTC
}

// ZoneName names the zone for a heading: UTC, the IANA name given, or for
// local time its abbreviation now (CET).
func ZoneName() string {
	loc := Zone()
	if loc == time.Local {
		name, _ := time.Now().In(loc).Zone()
		return name
	}
	return loc.String()
}

// Time layouts, from the narrowest; each ends with the zone: Z for UTC,
// +01:00 for others (FormatTime adds seconds for an offset that has them).
const (
	TimeShort  = "15:04:05Z07:00"
	TimeMedium = "01-02 15:04:05.000Z07:00"
	TimeFull   = "2006-01-02T15:04:05Z07:00"
	TimeMillis = "2006-01-02T15:04:05.000Z07:00"
	TimeExact  = "2006-01-02T15:04:05.000000Z07:00"
)

// FormatTime writes t in the zone with layout; "-" for no time. Go cuts
// fractions (never rounds them up), so the time shown is the start of the
// span that since= and until= read it as (see package filter).
func FormatTime(t time.Time, layout string) string {
	if t.IsZero() {
		return "-"
	}
	t = t.In(Zone())
	if _, off := t.Zone(); off%60 != 0 {
		// a historic offset of seconds (local mean time): printed whole,
		// or the time read back would be off by them
		layout = strings.Replace(layout, "Z07:00", "Z07:00:00", 1)
	}
	return t.Format(layout)
}

// TimeWidth is the widest that FormatTime(_, layout) is in the zone this
// year (Z and +01:00 differ; a zone with summer time may have both).
func TimeWidth(layout string) int {
	key := widthKey{layout, Zone()}
	if w, ok := widths.Load(key); ok {
		return w.(int)
	}
	y := time.Now().Year()
	w := 0
	for _, m := range []time.Month{time.January, time.July} {
		w = max(w, len(FormatTime(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC), layout)))
	}
	widths.Store(key, w)
	return w
}

type widthKey struct {
	layout string
	loc    *time.Location
}

var widths sync.Map // widthKey: int

// FilterTime is t as a since= or until= value that means exactly that
// microsecond (the model's precision), in the zone shown.
func FilterTime(t time.Time) string { return FormatTime(t, TimeExact) }

// LoadZone is the zone name names: UTC (or ""), local (the TZ environment
// variable or the system's), or an IANA name like Europe/Berlin; the error
// says what to give.
func LoadZone(name string) (*time.Location, error) {
	switch {
	case name == "" || strings.EqualFold(name, "UTC"):
		return time.UTC, nil
	case strings.EqualFold(name, "local"):
		return time.Local, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("--tz %q is not a zone: give UTC, local, or an IANA zone name like Europe/Berlin or America/New_York", name)
	}
	return loc, nil
}
