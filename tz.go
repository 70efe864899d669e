package main

import (
	"strings"
	"time"
	_ "time/tzdata" // --tz Area/City on a host or image without a zone database

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/render"
)

// tzFlag is --tz: the one zone times are shown in and zone-less times in a
// filter (since=, until=) are read in. UTC unless asked.
type tzFlag struct{ name string }

func (z *tzFlag) register(fs *pflag.FlagSet) {
	fs.StringVar(&z.name, "tz", "UTC", "the zone times are shown in and a filter's times without a zone are read in: UTC, local (the TZ environment variable or the system's), or an IANA name like Europe/Berlin")
}

// location is the zone --tz names, or a usage error that says what to give.
func (z *tzFlag) location() (*time.Location, error) {
	switch {
	case z.name == "" || strings.EqualFold(z.name, "UTC"):
		return time.UTC, nil
	case strings.EqualFold(z.name, "local"):
		return time.Local, nil
	}
	loc, err := time.LoadLocation(z.name)
	if err != nil {
		return nil, usageError("--tz %q is not a zone: give UTC, local, or an IANA zone name like Europe/Berlin or America/New_York", z.name)
	}
	return loc, nil
}

// apply makes the zone the one shown and read: render's zone, and now (which
// anchors filter.Parse) in it.
func (z *tzFlag) apply(now *func() time.Time) error {
	loc, err := z.location()
	if err != nil {
		return err
	}
	render.SetZone(loc)
	clock := *now
	if clock == nil {
		clock = time.Now
	}
	*now = func() time.Time { return clock().In(loc) }
	return nil
}
