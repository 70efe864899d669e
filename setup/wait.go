package setup

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// probe is one look at the apiserver: whether /readyz answers ok, and an
// identity of the running instance ("" if unknown) so a restart is seen
// even when it is quicker than the poll.
type probe func(ctx context.Context) (ready bool, instance string, err error)

// newClientset builds a clientset from a kubeconfig (admin.conf on a master).
func newClientset(kubeconfig string) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	rc.Timeout = 5 * time.Second
	return kubernetes.NewForConfig(rc)
}

// clientProbe asks /readyz, and reads the mirror pod of this node's
// apiserver for its config hash and start time as the instance identity.
func clientProbe(cs kubernetes.Interface, node string) probe {
	return func(ctx context.Context) (bool, string, error) {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return false, "", err
		}
		if strings.TrimSpace(string(body)) != "ok" {
			return false, "", fmt.Errorf("/readyz: %s", firstLine(string(body)))
		}
		instance := ""
		if pod, err := cs.CoreV1().Pods("kube-system").Get(ctx, "kube-apiserver-"+node, metav1.GetOptions{}); err == nil {
			instance = pod.Annotations["kubernetes.io/config.hash"]
			for _, st := range pod.Status.ContainerStatuses {
				if st.Name == "kube-apiserver" && st.State.Running != nil {
					instance += "/" + st.State.Running.StartedAt.UTC().String()
				}
			}
		}
		return true, instance, nil
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// waitRestart polls until the apiserver has restarted (it was seen down, or
// its instance changed) and is ready again, printing a progress line.
func waitRestart(ctx context.Context, o *Options, before string) error {
	start := o.Now()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	restarted := false
	lastErr := "still the old apiserver"
	lineStart, clearEOL, lineEnd := "", "", "\n"
	if o.ErrTTY {
		lineStart, clearEOL, lineEnd = "\r", "\033[K", ""
	}
	lastPrinted := time.Duration(-1)
	for {
		ready, instance, err := o.Probe(ctx)
		elapsed := o.Now().Sub(start).Round(time.Second)
		switch {
		case err != nil:
			restarted = true
			lastErr = firstLine(err.Error())
		case instance != "" && before != "" && instance != before:
			restarted = true
		}
		if restarted && ready {
			fmt.Fprintf(o.Err, "%swaiting for the apiserver: ready after %s%s\n", lineStart, elapsed, clearEOL)
			return nil
		}
		// On a terminal one line updates in place; in a log, a line every 10 s.
		if o.ErrTTY || elapsed >= lastPrinted+10*time.Second || lastPrinted < 0 {
			fmt.Fprintf(o.Err, "%swaiting for the apiserver to restart and be ready: %s (%s)%s%s", lineStart, elapsed, lastErr, clearEOL, lineEnd)
			lastPrinted = elapsed
		}
		select {
		case <-ctx.Done():
			if o.ErrTTY {
				fmt.Fprintln(o.Err)
			}
			if errors.Is(ctx.Err(), context.Canceled) {
				return fmt.Errorf("stopped while waiting for the apiserver (after %s; it was: %s)", elapsed, lastErr)
			}
			return fmt.Errorf("the apiserver was not ready within %s (%s)", o.Timeout, lastErr)
		case <-time.After(o.Interval):
		}
	}
}

// lastApiserverErrors returns the last error lines of the newest apiserver
// container log under <root>/var/log/pods (CRI format, klog inside).
func lastApiserverErrors(root string, n int) []string {
	files, _ := filepath.Glob(filepath.Join(inRoot(root, "var/log/pods"), "kube-system_kube-apiserver-*/kube-apiserver/*.log"))
	sort.Slice(files, func(i, j int) bool {
		a, _ := os.Stat(files[i])
		b, _ := os.Stat(files[j])
		return a != nil && b != nil && a.ModTime().Before(b.ModTime())
	})
	if len(files) == 0 {
		return nil
	}
	data, err := readTail(files[len(files)-1], maxReadSize)
	if err != nil {
		return nil
	}
	var lines, errs []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		// CRI: <time> <stream> <P|F> <text>
		if f := strings.SplitN(line, " ", 4); len(f) == 4 && (f[1] == "stdout" || f[1] == "stderr") {
			line = f[3]
		}
		if strings.HasPrefix(line, "{") {
			continue // audit JSON in stdout mode
		}
		lines = append(lines, line)
		if strings.HasPrefix(line, "E") || strings.HasPrefix(line, "F") || strings.HasPrefix(line, "Error") {
			errs = append(errs, line)
		}
	}
	if len(errs) == 0 {
		errs = lines
	}
	if len(errs) > n {
		errs = errs[len(errs)-n:]
	}
	return errs
}

// auditEventsAt reports whether audit events have appeared where cfg says:
// the log file (file mode) or the apiserver's container log (stdout mode).
func auditEventsAt(root string, cfg config) (bool, string) {
	if cfg.Mode == "stdout" {
		files, _ := filepath.Glob(filepath.Join(inRoot(root, "var/log/pods"), "kube-system_kube-apiserver-*/kube-apiserver/*.log"))
		for _, f := range files {
			if b, err := readTail(f, maxReadSize); err == nil && bytes.Contains(b, []byte(`"kind":"Event"`)) {
				return true, f
			}
		}
		return false, filepath.Join(root, "var/log/pods/kube-system_kube-apiserver-*/kube-apiserver/")
	}
	p := inRoot(root, cfg.LogPath)
	b, err := readTail(p, maxReadSize)
	return err == nil && bytes.Contains(b, []byte(`"kind":"Event"`)), p
}

// metav1ListOne is the cheap request checkAuditEvents makes.
var metav1ListOne = metav1.ListOptions{Limit: 1}

// readTail reads at most the last n bytes of a regular file (logs grow
// without bound; a special file is refused without blocking on it).
func readTail(name string, n int64) ([]byte, error) {
	f, fi, err := openRegular(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	off := max(fi.Size()-n, 0)
	return io.ReadAll(io.NewSectionReader(f, off, n))
}
