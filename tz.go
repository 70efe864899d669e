package main

import (
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

// apply makes the zone the one shown and read: render's zone, and now (which
// anchors filter.Parse) in it.
func (z *tzFlag) apply(now *func() time.Time) error {
	loc, err := render.LoadZone(z.name)
	if err != nil {
		return usageError("%v", err)
	}
	render.SetZone(loc)
	clock := *now
	if clock == nil {
		clock = time.Now
	}
	*now = func() time.Time { return clock().In(loc) }
	return nil
}
