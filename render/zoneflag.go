package render

import (
	"time"
	_ "time/tzdata" // --tz Area/City on a host or image without a zone database

	"github.com/spf13/pflag"
)

// ZoneFlag is --tz: the one zone times are shown in and zone-less times in a
// filter (since=, until=) are read in. UTC unless asked.
type ZoneFlag struct{ name string }

// Register adds --tz to fs.
func (z *ZoneFlag) Register(fs *pflag.FlagSet) {
	fs.StringVar(&z.name, "tz", "UTC", "the zone times are shown in and a filter's times without a zone are read in: UTC, local (the TZ environment variable or the system's), or an IANA name like Europe/Berlin")
}

// Apply makes the zone the one shown and read: the zone of SetZone, and
// now (which anchors filter.Parse) in it. Its error is a usage error's line.
func (z *ZoneFlag) Apply(now *func() time.Time) error {
	loc, err := LoadZone(z.name)
	if err != nil {
		return err
	}
	SetZone(loc)
	clock := *now
	if clock == nil {
		clock = time.Now
	}
	*now = func() time.Time { return clock().In(loc) }
	return nil
}
