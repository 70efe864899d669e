// Command vlogs-load sends audit log files to VictoriaLogs' /insert/jsonline
// endpoint in the form the collector config of `kauditui setup --ship-to`
// gives through OTLP (source.AppendStoreLine): the original line as _msg,
// its fields but the bodies flattened beside it, stageTimestamp as _time,
// cluster and node as stream fields. It is the fast way to load a big log
// for hack/vlogs-e2e.sh's speed figure. VictoriaLogs skips a line over its
// -insert.maxLineSizeBytes (256 KiB by default) and the rest of its batch
// without a word: vlogs-load says so from the store's counters.
//
//	go run ./hack/vlogs-load -url http://127.0.0.1:9428 -cluster c1 -node m1 FILE...
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/kauditui/kauditui/source"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:9428", "VictoriaLogs address (a front node in cluster mode)")
	cluster := flag.String("cluster", "", "value of the cluster stream field")
	node := flag.String("node", "", "value of the node stream field")
	batch := flag.Int("batch", 8<<20, "bytes per insert request")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "vlogs-load: name the audit log files to send")
		os.Exit(2)
	}
	q := url.Values{}
	q.Set("_time_field", "stageTimestamp")
	q.Set("_stream_fields", "cluster,node")
	endpoint := *base + "/insert/jsonline?" + q.Encode()
	start := time.Now()
	var lines, sent int64
	var buf []byte
	flush := func() {
		if len(buf) == 0 {
			return
		}
		resp, err := http.Post(endpoint, "application/stream+json", bytes.NewReader(buf))
		if err != nil {
			fail(err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			fail(fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body)))
		}
		sent += int64(len(buf))
		buf = buf[:0]
	}
	for _, path := range flag.Args() {
		f, err := os.Open(path)
		if err != nil {
			fail(err)
		}
		br := bufio.NewReaderSize(f, 1<<20)
		var r io.Reader = br
		if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
			zr, err := gzip.NewReader(br)
			if err != nil {
				fail(fmt.Errorf("%s: %v", path, err))
			}
			r = zr
		}
		lr := bufio.NewReaderSize(r, 1<<20)
		for {
			line, err := lr.ReadBytes('\n')
			var ok bool
			if buf, ok = source.AppendStoreLine(buf, line, *cluster, *node); ok {
				lines++
				if len(buf) >= *batch {
					flush()
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				fail(fmt.Errorf("%s: %v", path, err))
			}
		}
		f.Close()
	}
	flush()
	d := time.Since(start)
	if st, err := source.OpenStore(source.StoreOptions{URL: *base}); err == nil {
		if lost, err := st.Lost(context.Background()); err == nil && lost.String() != "" {
			fmt.Fprintf(os.Stderr, "vlogs-load: warning: the store %s since it started: raise its -insert.maxLineSizeBytes (up to 2MiB)\n", lost)
		}
	}
	fmt.Printf("vlogs-load: %d events, %.1f MB sent in %.1fs (%.1f MB/s)\n", lines, float64(sent)/1e6, d.Seconds(), float64(sent)/1e6/d.Seconds())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "vlogs-load:", err)
	os.Exit(1)
}
