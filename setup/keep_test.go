package setup

import (
	"path/filepath"
	"strings"
	"testing"
)

// audited is a real manifest already set up by hand: a custom policy,
// retention 7 days / 3 files / 50 MB, gzip, and the legacy format.
func audited(t *testing.T, fx fixture) string {
	t.Helper()
	return variant(t, fx, afterProgram(
		"--audit-policy-file=/etc/kubernetes/custom-policy.yaml",
		"--audit-log-path=/var/log/kubernetes/audit/audit.log",
		"--audit-log-maxage=7", "--audit-log-maxbackup=3", "--audit-log-maxsize=50",
		"--audit-log-compress", "--audit-log-format=legacy"),
		map[string]string{"etc/kubernetes/custom-policy.yaml": customPolicy})
}

// TestRerunKeepsSettings: a re-run with no flags keeps the custom policy,
// the retention and gzip; only the legacy format changes, to json, said in
// words with the reason, before the diff.
func TestRerunKeepsSettings(t *testing.T) {
	for _, fx := range realFixtures {
		t.Run(fx.name, func(t *testing.T) {
			root := audited(t, fx)
			out, err := runSetup(t, root, nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if got := readFile(t, filepath.Join(root, "etc/kubernetes/custom-policy.yaml")); string(got) != customPolicy {
				t.Error("the custom policy was replaced")
			}
			m := parseRoot(t, root)
			for f, want := range map[string]string{"audit-log-maxage": "7", "audit-log-maxbackup": "3", "audit-log-maxsize": "50",
				"audit-log-compress": "true", "audit-log-format": "json", "audit-policy-file": "/etc/kubernetes/custom-policy.yaml"} {
				if got, _ := m.Flag(f); got != want {
					t.Errorf("--%s = %q, want %q", f, got, want)
				}
			}
			changes, diff, _ := strings.Cut(out, "\n---")
			if !strings.Contains(changes, "--audit-log-format=legacy -> json: kauditui reads JSON audit events") {
				t.Errorf("the switch to json is not said before the diff:\n%s", out)
			}
			for _, quiet := range []string{"keep rotated logs", "rotate at", "rotated files kept", "gzip rotated logs", "replaces the policy"} {
				if strings.Contains(changes, quiet) {
					t.Errorf("says %q although it does not change:\n%s", quiet, changes)
				}
			}
			if !strings.Contains(changes, "policy /etc/kubernetes/custom-policy.yaml stays as it is") {
				t.Errorf("does not say the policy is kept:\n%s", changes)
			}
			_ = diff
		})
	}
}

// TestFlagChangesOneSetting: a flag changes that setting only, and says so.
func TestFlagChangesOneSetting(t *testing.T) {
	for _, fx := range realFixtures {
		t.Run(fx.name, func(t *testing.T) {
			root := audited(t, fx)
			out, err := runSetup(t, root, func(o *Options) { o.MaxAge = 9; no := false; o.Compress = &no })
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			changes, _, _ := strings.Cut(out, "\n---")
			for _, want := range []string{"keep rotated logs: 7 days -> 9 days (--audit-log-maxage)", "gzip rotated logs: yes -> no (--audit-log-compress)"} {
				if !strings.Contains(changes, want) {
					t.Errorf("does not say %q:\n%s", want, changes)
				}
			}
			m := parseRoot(t, root)
			for f, want := range map[string]string{"audit-log-maxage": "9", "audit-log-maxbackup": "3", "audit-log-maxsize": "50"} {
				if got, _ := m.Flag(f); got != want {
					t.Errorf("--%s = %q, want %q", f, got, want)
				}
			}
			if _, ok := m.Flag("audit-log-compress"); ok {
				t.Error("--audit-log-compress left")
			}
			if got := readFile(t, filepath.Join(root, "etc/kubernetes/custom-policy.yaml")); string(got) != customPolicy {
				t.Error("the custom policy was replaced")
			}
			// Asking for a preset replaces the policy, and says so.
			out, err = runSetup(t, root, func(o *Options) { o.Policy = "security" })
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "replaces the policy in /etc/kubernetes/custom-policy.yaml with preset security (the old one is backed up)") {
				t.Errorf("the replaced policy is not said:\n%s", out)
			}
		})
	}
}

// TestPrefillIsTheManifest: the form starts from the manifest's settings.
func TestPrefillIsTheManifest(t *testing.T) {
	root := audited(t, fixtures[0])
	var o outputs
	opts := testOptions(root, &o)
	if err := Prefill(opts); err != nil {
		t.Fatal(err)
	}
	if opts.MaxAge != 7 || opts.MaxBackup != 3 || opts.MaxSize != 50 || !*opts.Compress || opts.Policy != keepExisting ||
		opts.PolicyPath != "/etc/kubernetes/custom-policy.yaml" || opts.Mode != "file" {
		t.Errorf("prefilled: %+v", opts)
	}
	if f := newForm(opts); !strings.Contains(f.Render(), "[existing]") {
		t.Errorf("the form does not offer the existing policy:\n%s", f.Render())
	}
}
