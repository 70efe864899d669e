// Command vlogs-pages measures the explorer's lazy pages over a
// VictoriaLogs store (source.StorePages): how long the first screen of
// rows, the total, the Summary's counts and the histogram take, and the
// process's peak resident memory. hack/vlogs-pages.sh runs it on the 1 GB
// log.
//
//	go run ./hack/vlogs-pages -url http://127.0.0.1:9428 -cluster big [-q FILTER]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kauditui/kauditui/source"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:9428", "VictoriaLogs address")
	cluster := flag.String("cluster", "", "the cluster stream field's value")
	expr := flag.String("q", "", "filter")
	rows := flag.Int("rows", 60, "rows of a screen and its margin")
	flag.Parse()
	ctx := context.Background()
	sp := &source.StoreSpec{Filter: *expr, Now: time.Now(), StoreOptions: source.StoreOptions{URL: *base}}
	if *cluster != "" {
		sp.Cluster = []string{*cluster}
	}
	start := time.Now()
	warn := func(s string) { fmt.Fprintln(os.Stderr, "warning:", s) }
	// The explorer asks for the first screen at once, and for the checks
	// and the total beside it.
	p, why, err := sp.Pages(ctx, warn)
	if err == nil && why != "" {
		err = fmt.Errorf("the store cannot page it: %s", why)
	}
	report("opened", time.Since(start), err)
	if err != nil {
		os.Exit(1)
	}
	// The explorer's order: the first screen, the total, then the checks
	// that the pages and counts are kauditui's (the screen says so until
	// then).
	pg, err := p.Page(ctx, 0, *rows)
	if pg != nil {
		report(fmt.Sprintf("first %d rows", len(pg.Requests)), time.Since(start), err)
	}
	n, err := p.Total(ctx)
	report(fmt.Sprintf("total (%d requests)", n), time.Since(start), err)
	why, err = p.Exact(ctx)
	if err == nil && why != "" {
		err = fmt.Errorf("the store's counts are not exact: %s", why)
	}
	report("checks: the store's counts exact", time.Since(start), err)
	t := time.Now()
	var total int
	_, total, why, err = p.Top(ctx, "user")
	if err == nil && why != "" {
		err = fmt.Errorf("not exact: %s", why)
	}
	report(fmt.Sprintf("Summary: top users (%d requests)", total), time.Since(t), err)
	t = time.Now()
	h, err := p.Histogram(ctx, time.Minute)
	report(fmt.Sprintf("histogram by minute (%d steps)", len(h)), time.Since(t), err)
	t = time.Now()
	total64, _ := p.Total(ctx)
	pg, err = p.Page(ctx, int(total64/2), *rows)
	if err == nil {
		report(fmt.Sprintf("%d rows from the middle", len(pg.Requests)), time.Since(t), err)
	}
	fmt.Printf("peak resident memory: %s\n", peak())
}

func report(what string, took time.Duration, err error) {
	if err != nil {
		fmt.Printf("%-40s failed: %v\n", what, err)
		return
	}
	fmt.Printf("%-40s %6.2f s\n", what, took.Seconds())
}

// peak is VmHWM from /proc/self/status.
func peak() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}
