package main

// Black-box scripts (testdata/script/*.txtar): terminal sessions of the real
// kauditui command, run by testscript as soft-serve runs its CLI.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kauditui/kauditui/budget"
	"github.com/kauditui/kauditui/iostreams"
)

// TestMain lets the test binary be the kauditui the scripts run: testscript
// puts it in the scripts' PATH under these names.
func TestMain(m *testing.M) {
	// The tests (and the scripts' kauditui) read at normal priority and
	// say nothing of it, whether or not an apiserver runs on this machine;
	// budget_test.go asks about priority on purpose.
	budget.ControlPlane = func(string) (bool, string) { return false, "" }
	testscript.Main(m, map[string]func(){
		"kauditui": func() { os.Exit(run(os.Args[1:], iostreams.System())) },
		// ctrl-c-after TEXT kauditui ARGS...: kauditui, sent SIGINT (what a
		// terminal sends on Ctrl-C) once it has written TEXT to standard
		// error, so the signal lands at a known step, not after a guessed sleep.
		"ctrl-c-after": func() {
			if len(os.Args) < 3 || os.Args[2] != "kauditui" {
				fmt.Fprintln(os.Stderr, "usage: ctrl-c-after TEXT kauditui ARGS...")
				os.Exit(2)
			}
			os.Exit(runCtrlCAfter(os.Args[1], os.Args[3:]))
		},
	})
}

// runCtrlCAfter runs kauditui with its standard error passed through a pipe
// that watches for text.
func runCtrlCAfter(text string, args []string) int {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	done := make(chan struct{})
	go func() {
		defer close(done)
		sent := false
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			fmt.Fprintln(stderr, sc.Text())
			if !sent && strings.Contains(sc.Text(), text) {
				syscall.Kill(os.Getpid(), syscall.SIGINT)
				sent = true
			}
		}
	}()
	code := run(args, iostreams.System())
	w.Close()
	<-done
	return code
}

func TestScripts(t *testing.T) {
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			// The real logs and manifest, copied by the scripts into $WORK.
			env.Setenv("TESTDATA", testdata)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":  cmdExits,
			"cpglob": cmdCpGlob,
		},
	})
}

// cmdCpGlob is `cpglob PATTERN... DIR`: cp, each pattern expanded as a
// shell glob that must match; rotated backups are named by the time of the
// run that generated the testdata, so scripts name them by pattern.
func cmdCpGlob(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: cpglob pattern... dir")
	}
	var files []string
	for _, p := range args[:len(args)-1] {
		m, err := filepath.Glob(ts.MkAbs(p))
		if err != nil || len(m) == 0 {
			ts.Fatalf("cpglob: %s matches no file", p)
		}
		files = append(files, m...)
	}
	dir := ts.MkAbs(args[len(args)-1])
	for _, f := range files {
		b, err := os.ReadFile(f)
		ts.Check(err)
		ts.Check(os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
}

// cmdExits is `exits N COMMAND ARGS...`: run COMMAND as exec does and fail
// unless it exits with status N; `! exec` alone cannot tell 1 from 2 or 130.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %q is not an exit status", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}
