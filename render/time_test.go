package render

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones, wherever the tests run
)

func TestFormatTimeCarriesTheZone(t *testing.T) {
	t.Cleanup(func() { SetZone(nil) })
	at := time.Date(2026, 11, 26, 10, 0, 1, 999_000_000, time.UTC)
	for _, c := range []struct {
		zone         string
		layout, want string
	}{
		{"UTC", TimeFull, "2026-11-26T10:00:01Z"},
		{"UTC", TimeShort, "10:00:01Z"},
		{"UTC", TimeExact, "2026-11-26T10:00:01.999000Z"},
		{"Asia/Tokyo", TimeFull, "2026-11-26T19:00:01+09:00"},
		{"Asia/Tokyo", TimeMedium, "11-26 19:00:01.999+09:00"},
		{"America/St_Johns", TimeFull, "2026-11-26T06:30:01-03:30"},
		{"Europe/London", TimeFull, "2026-11-26T10:00:01Z"},
	} {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		SetZone(loc)
		if got := FormatTime(at, c.layout); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.zone, c.layout, got, c.want)
		}
		if w := TimeWidth(c.layout); w < len(c.want) {
			t.Errorf("%s %s: width %d, narrower than %q", c.zone, c.layout, w, c.want)
		}
	}
	if FormatTime(time.Time{}, TimeFull) != "-" {
		t.Error("no time is not -")
	}
}

// An offset of seconds (Tokyo's local mean time before 1888: +09:18:59) is
// printed whole, so the time read back is the same instant.
func TestFormatTimeOddOffset(t *testing.T) {
	t.Cleanup(func() { SetZone(nil) })
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	SetZone(loc)
	at := time.Date(1700, 3, 4, 5, 6, 7, 0, time.UTC)
	s := FormatTime(at, TimeFull)
	back, err := time.Parse("2006-01-02T15:04:05Z07:00:00", s)
	if err != nil || !back.Equal(at) {
		t.Errorf("%s reads back as %v (%v), want %v", s, back, err, at)
	}
}
