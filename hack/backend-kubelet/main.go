// Command backend-kubelet is a stand-in kubelet for hack/gen-backend.sh: the
// backend a real kube-apiserver proxies pods/log, pods/exec and nodes/proxy
// to, answering what the script needs the apiserver to log. Standard library
// only. It serves HTTPS (a self-signed certificate: the apiserver does not
// check kubelet serving certificates unless --kubelet-certificate-authority
// is set) on -ip:-port, HTTP/1.1 only, and writes one JSON line per request
// it answered to -record (what the backend did: the script's ground truth
// for requests whose count a client decides, such as kubectl's fallback from
// WebSocket to SPDY).
//
// What it answers, by the pod's name (or the proxied path):
//
//	GET /containerLogs/NS/deny-*/C       401 Unauthorized (a kubelet refusing the apiserver)
//	GET /containerLogs/NS/POD/C          200, two log lines
//	/exec/NS/refuse-*/C                  401 Unauthorized, before any upgrade
//	/attach/NS/POD/C                     as exec with sleep 3
//	/exec/NS/POD/C?command=...           a WebSocket upgrade (v5.channel.k8s.io or v4), 101, then by command:
//	    sleep N                          "held" on stdout, held N seconds (or until the client goes), exit 0
//	    false                            held 1 s, exit code 1 (Status Failure, NonZeroExitCode)
//	    drop                             held 1 s, then the TCP connection is closed with no status
//	    anything else                    exit 0 at once
//	/configz, /deny/...                  401 Unauthorized (nodes/proxy)
//	/abort                               200 and half a body, then the connection is cut
//	                                     (the apiserver's reverse proxy then panics with
//	                                     http.ErrAbortHandler)
//	anything else                        200 "ok"
//
// A request that is not an upgrade to exec gets 400, as the kubelet answers.
package main

import (
	"bufio"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kauditui/kauditui/hack/internal/e2e"
)

var (
	ip     = flag.String("ip", "", "address to listen on (the Node's InternalIP)")
	port   = flag.Int("port", 10250, "port (the Node's kubeletEndpoint port)")
	record = flag.String("record", "", "file to append one JSON line per answered request to")
)

type entry struct {
	At        string  `json:"at"`
	Method    string  `json:"method"`
	Path      string  `json:"path"`
	Query     string  `json:"query,omitempty"`
	Upgrade   string  `json:"upgrade,omitempty"`
	Code      int     `json:"code"`
	HeldSec   float64 `json:"heldSeconds,omitempty"`
	End       string  `json:"end,omitempty"`
	Namespace string  `json:"namespace,omitempty"`
	Pod       string  `json:"pod,omitempty"`
}

var recMu sync.Mutex

func write(e entry) {
	recMu.Lock()
	defer recMu.Unlock()
	f, err := os.OpenFile(*record, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		log.Print(err)
		return
	}
	defer f.Close()
	b, _ := json.Marshal(e)
	f.Write(append(b, '\n'))
}

func main() {
	flag.Parse()
	cert, err := e2e.StandInKubeletCert(*ip)
	if err != nil {
		log.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(*ip, strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(serve),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){}, // HTTP/1.1, as the kubelet's upgrades need
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Printf("backend-kubelet: listening on %s", l.Addr())
	log.Fatal(srv.ServeTLS(l, "", ""))
}

func serve(w http.ResponseWriter, r *http.Request) {
	e := entry{At: time.Now().UTC().Format(time.RFC3339Nano), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Upgrade: r.Header.Get("Upgrade")}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) >= 3 && (parts[0] == "containerLogs" || parts[0] == "exec" || parts[0] == "attach") {
		e.Namespace, e.Pod = parts[1], parts[2]
	}
	switch {
	case parts[0] == "containerLogs" && strings.HasPrefix(e.Pod, "deny-"),
		parts[0] == "exec" && strings.HasPrefix(e.Pod, "refuse-"),
		parts[0] == "configz", parts[0] == "deny":
		e.Code = http.StatusUnauthorized
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
	case parts[0] == "containerLogs":
		e.Code = http.StatusOK
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "2026-12-06T00:00:00.000000000Z stdout F hello from %s\n2026-12-06T00:00:01.000000000Z stdout F bye\n", e.Pod)
	case parts[0] == "exec" || parts[0] == "attach":
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			e.Code = http.StatusBadRequest
			http.Error(w, "this stand-in speaks WebSocket only", http.StatusBadRequest)
			break
		}
		execWS(w, r, &e)
	case parts[0] == "abort":
		e.Code, e.End = http.StatusOK, "connection cut after half the body"
		write(e)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "half of the body\n")
		http.NewResponseController(w).Flush()
		time.Sleep(200 * time.Millisecond)
		panic(http.ErrAbortHandler) // net/http closes the connection mid-body
	default:
		e.Code = http.StatusOK
		io.WriteString(w, "ok")
	}
	write(e)
}

// execWS accepts a WebSocket exec (the remotecommand protocol v5 or v4:
// binary messages whose first byte is the stream, 1 stdout, 3 the error
// stream carrying a metav1.Status) and acts out the command.
func execWS(w http.ResponseWriter, r *http.Request, e *entry) {
	proto := ""
	for _, p := range strings.Split(r.Header.Get("Sec-WebSocket-Protocol"), ",") {
		p = strings.TrimSpace(p)
		if p == "v5.channel.k8s.io" || p == "v4.channel.k8s.io" {
			proto = p
			break
		}
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if proto == "" || key == "" {
		e.Code = http.StatusBadRequest
		http.Error(w, "no supported protocol", http.StatusBadRequest)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		e.Code = http.StatusInternalServerError
		return
	}
	defer conn.Close()
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(sum[:]), proto)
	rw.Flush()
	e.Code = http.StatusSwitchingProtocols
	log.Printf("exec session open: %s", e.Pod) // hack/gen-backend.sh waits for this line
	start := time.Now()
	gone := make(chan struct{})
	go func() { // read the client's frames until it closes
		defer close(gone)
		readFrames(rw.Reader)
	}()
	cmd := r.URL.Query()["command"]
	if strings.HasPrefix(r.URL.Path, "/attach/") {
		cmd = []string{"sleep", "3"} // the container's own process, attached to for 3 s
	}
	hold, status := time.Duration(0), `{"metadata":{},"status":"Success"}`
	switch {
	case len(cmd) == 2 && cmd[0] == "sleep":
		n, _ := strconv.Atoi(cmd[1])
		hold = time.Duration(n) * time.Second
		frame(rw.Writer, 2, append([]byte{1}, "held\n"...))
	case len(cmd) == 1 && cmd[0] == "false":
		hold = time.Second
		status = `{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [false], exit code 1","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"1"}]}}`
	case len(cmd) == 1 && cmd[0] == "drop":
		hold, status = time.Second, ""
	}
	rw.Flush()
	select {
	case <-time.After(hold):
		if status == "" {
			e.End = "connection closed with no status"
			break
		}
		frame(rw.Writer, 2, append([]byte{3}, status...))
		frame(rw.Writer, 8, []byte{0x03, 0xe8}) // close, 1000
		rw.Flush()
		e.End = "status " + strings.SplitN(strings.SplitN(status, `"status":"`, 2)[1], `"`, 2)[0]
	case <-gone:
		e.End = "client closed"
	}
	e.HeldSec = time.Since(start).Seconds()
}

// frame writes one unmasked WebSocket frame with FIN set.
func frame(w *bufio.Writer, opcode byte, payload []byte) {
	w.WriteByte(0x80 | opcode)
	switch n := len(payload); {
	case n < 126:
		w.WriteByte(byte(n))
	case n < 1<<16:
		w.WriteByte(126)
		binary.Write(w, binary.BigEndian, uint16(n))
	default:
		w.WriteByte(127)
		binary.Write(w, binary.BigEndian, uint64(n))
	}
	w.Write(payload)
}

// readFrames reads and drops WebSocket frames until a close frame or an error.
func readFrames(r *bufio.Reader) {
	for {
		var h [2]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if h[1]&0x80 != 0 {
			n += 4 // the mask
		}
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return
		}
		if h[0]&0x0f == 8 {
			return
		}
	}
}
