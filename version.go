package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// printVersion says which build this is: the version, commit and build date
// hack/release.sh stamped (a go build from a checkout says dev and, when Go
// recorded it, the commit it was built from), the Go that built it and the
// platform it is for. The first line stays `kauditui VERSION` for scripts.
func printVersion(w io.Writer) {
	c, d := commit, buildDate
	if c == "" || d == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				switch { // vcs.revision comes before vcs.modified
				case s.Key == "vcs.revision" && c == "":
					c = s.Value
				case s.Key == "vcs.time" && d == "":
					d = s.Value
				case s.Key == "vcs.modified" && s.Value == "true" && commit == "":
					c += "-dirty"
				}
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	if d == "" {
		d = "unknown"
	}
	fmt.Fprintf(w, "kauditui %s\ncommit:     %s\nbuilt:      %s\ngo:         %s\nplatform:   %s/%s\n",
		version, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
