package setup

import (
	"regexp"
	"strings"
	"testing"
)

// TestRevertHistory: three runs, then --revert three times walks back one
// run at a time to the exact bytes of each earlier state, kubeadm-config
// included; the list shows each backup with its time and what it changed.
func TestRevertHistory(t *testing.T) {
	doc := clusterConfigurations(t)["v1beta4"]
	for _, fx := range realFixtures {
		t.Run(fx.name, func(t *testing.T) {
			n := newNode(t, fx, doc)
			states := []state{n.state(t)}
			for _, edit := range []func(*Options){nil, func(o *Options) { o.Policy = "metadata" }, func(o *Options) { o.MaxAge = 5 }} {
				if out, err := n.run(t, edit); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				states = append(states, n.state(t))
			}
			out, err := n.run(t, func(o *Options) { o.Revert, o.DryRun = true, true })
			if err != nil {
				t.Fatal(err)
			}
			list := regexp.MustCompile(`(?m)^ +(\d) +2026-11-26 03:04:\d\dZ +setup: file /var/log/kubernetes/audit/audit.log \((\d+) days.*policy (.*?) at .*; changed ([a-z, -]+)(  \[in effect\])?$`).FindAllStringSubmatch(out, -1)
			if len(list) != 3 || list[0][2] != "5" || list[1][3] != "preset metadata" || list[2][4] != "policy, manifest, kubeadm-config" || list[0][5] == "" {
				t.Fatalf("the list does not show three runs with time and what changed:\n%s", out)
			}
			for i := 2; i >= 0; i-- {
				out, err := n.run(t, func(o *Options) { o.Revert = true })
				if err != nil {
					t.Fatalf("revert: %v\n%s", err, out)
				}
				if got := n.state(t); !got.equal(states[i]) {
					t.Fatalf("revert %d: %s differ from the state after run %d\n%s", 3-i, diffStates(states[i], got), i, out)
				}
			}
			out, _ = n.run(t, func(o *Options) { o.Revert = true })
			if !strings.Contains(out, "nothing to revert") {
				t.Errorf("a fourth --revert:\n%s", out)
			}
			// --revert --to 1 undoes the last revert.
			if out, err := n.run(t, func(o *Options) { o.Revert, o.RevertTo = true, 1 }); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if got := n.state(t); !got.equal(states[1]) {
				t.Errorf("--to 1 after the reverts: %s differ from the state after run 1", diffStates(states[1], got))
			}
		})
	}
}

// TestRevertTo: --revert --to N goes straight back to before backup N.
func TestRevertTo(t *testing.T) {
	doc := clusterConfigurations(t)["v1beta3"]
	for _, fx := range realFixtures {
		n := newNode(t, fx, doc)
		orig := n.state(t)
		n.run(t, nil)
		n.run(t, func(o *Options) { o.Policy = "metadata" })
		n.run(t, func(o *Options) { o.Mode = "stdout" })
		if _, err := n.run(t, func(o *Options) { o.Revert, o.RevertTo = true, 4 }); err == nil {
			t.Error("--to 4 of 3 accepted")
		}
		out, err := n.run(t, func(o *Options) { o.Revert, o.RevertTo = true, 3 })
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if got := n.state(t); !got.equal(orig) {
			t.Errorf("%s: --to 3: %s differ from before setup", fx.name, diffStates(orig, got))
		}
	}
}

// TestBackupsPruned: many runs keep the newest backups and the oldest one,
// so the node as it was before setup can always be had back.
func TestBackupsPruned(t *testing.T) {
	n := newNode(t, realFixtures[1], clusterConfigurations(t)["v1beta4"])
	orig := n.state(t)
	for i := 0; i < keepBackups+5; i++ {
		policy := []string{"default", "metadata", "security"}[i%3]
		if out, err := n.run(t, func(o *Options) { o.Policy = policy; o.MaxAge = 10 + i }); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	if c := backupCount(t, n.root); c != keepBackups+1 {
		t.Errorf("%d backups kept, want %d", c, keepBackups+1)
	}
	out, err := n.run(t, func(o *Options) { o.Revert, o.RevertTo = true, keepBackups+1 })
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "[oldest, always kept]") {
		t.Errorf("the oldest backup is not marked:\n%s", out)
	}
	if got := n.state(t); !got.equal(orig) {
		t.Errorf("back to the oldest backup: %s differ from before setup", diffStates(orig, got))
	}
}
