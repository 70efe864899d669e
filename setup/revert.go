package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// --revert: the backup sets are a history, newest first. Going back to
// before set N undoes sets 1..N: each file any of them touched gets the
// bytes it had before the oldest of them that touched it (or goes, if it did
// not exist then). Without --to, N is the newest setup run still in effect
// (its files hold what it wrote), so a second --revert goes further back.
// The revert is a transaction with a backup set of its own: --revert --to 1
// right after undoes it.

// inEffect: the files of the set hold what it wrote.
func (s *backupSet) inEffect(o *Options) bool {
	for _, rf := range s.rec.Files {
		cur, _, exists, err := currentSum(o, rf.Path)
		if err != nil || exists != (rf.NewSum != "") || (exists && cur != rf.NewSum) {
			return false
		}
	}
	return len(s.rec.Files) > 0
}

// beforeState: the files of the set hold what they had before it.
func (s *backupSet) beforeState(o *Options) bool {
	for _, rf := range s.rec.Files {
		cur, _, exists, err := currentSum(o, rf.Path)
		if err != nil || exists != (rf.Backup != "") || (exists && cur != rf.OldSum) {
			return false
		}
	}
	return true
}

func printHistory(o *Options, sets []*backupSet, effect int) {
	fmt.Fprintf(o.Out, "backups in %s, newest first:\n", o.path(backupRel))
	for i, s := range sets {
		mark := ""
		if i == effect {
			mark = "  [in effect]"
		}
		if i == len(sets)-1 && len(sets) > keepBackups {
			mark += "  [oldest, always kept]"
		}
		fmt.Fprintf(o.Out, "%4d  %s  %s: %s%s\n", i+1, stamp(s.rec.Time), s.rec.Kind, s.rec.About, mark)
	}
}

func revert(ctx context.Context, o *Options) error {
	sets, err := backupSets(o, false)
	if err != nil {
		return err
	}
	if len(sets) == 0 {
		if old, _ := filepath.Glob(filepath.Join(o.path(backupRel), "kube-apiserver.yaml.*")); len(old) > 0 {
			return fmt.Errorf("no backup in %s that this kauditui made: the kube-apiserver.yaml.<time> files there are from an older one; copy the one you want over %s by hand", o.path(backupRel), "/"+manifestRel)
		}
		return fmt.Errorf("no backup in %s: nothing to revert", o.path(backupRel))
	}
	// The newest run in effect, and the newest setup run in effect.
	effect, setupEffect := -1, -1
	for i, s := range sets {
		if s.inEffect(o) {
			if effect < 0 {
				effect = i
			}
			if s.rec.Kind == "setup" {
				setupEffect = i
				break
			}
		}
	}
	printHistory(o, sets, effect)
	n := o.RevertTo
	switch {
	case n > len(sets) || n < 0:
		return fmt.Errorf("--to %d: there are %d backups; choose 1 to %d from the list above", n, len(sets), len(sets))
	case n == 0 && setupEffect < 0 && effect >= 0:
		fmt.Fprintf(o.Out, "\nnothing to revert: revert %d is in effect, and no setup run before it; --revert --to %d undoes that revert, --revert --to N goes back further\n", effect+1, effect+1)
		return nil
	case n == 0 && setupEffect < 0 && sets[0].beforeState(o):
		fmt.Fprintf(o.Out, "\nnothing to revert: the files are as before backup 1 (%s); --revert --to N goes back further\n", stamp(sets[0].rec.Time))
		return nil
	case n == 0 && setupEffect < 0:
		return errors.New("the files are not as any setup run in the list left them (changed by hand, or by kubeadm, since?): choose the point to go back to with --revert --to N")
	case n == 0:
		n = setupEffect + 1
	}
	target := sets[n-1]
	fmt.Fprintf(o.Out, "\nback to before %d (%s):\n", n, stamp(target.rec.Time))

	// Each file's bytes before the oldest of sets 1..n that touched it.
	t := &txn{o: o, kind: "revert", now: o.Now(),
		about: fmt.Sprintf("back to before %s (%s)", stamp(target.rec.Time), target.rec.About)}
	byPath := map[string]*fileChange{}
	var order []string
	for i := n - 1; i >= 0; i-- {
		s := sets[i]
		for _, rf := range s.rec.Files {
			if byPath[rf.Path] != nil {
				continue
			}
			old, err := s.oldBytes(rf)
			if err != nil {
				return err
			}
			cur, curBytes, exists, err := currentSum(o, rf.Path)
			if err != nil {
				return fmt.Errorf("%s: %v", rf.Path, err)
			}
			// Changed since the newest of sets 1..n wrote it?
			for j := 0; j <= i; j++ {
				if w, ok := wroteFile(sets[j], rf.Path); ok {
					if exists != (w != "") || (exists && cur != w) {
						fmt.Fprintf(o.Err, "%s was changed since setup wrote it (%s): going back undoes that change too\n", rf.Path, filepath.Base(sets[j].dir))
					}
					break
				}
			}
			fc := &fileChange{rel: rf.Path, abs: o.path(rf.Path), old: curBytes, oldExists: exists,
				new: old, newExists: rf.Backup != "", mode: os.FileMode(rf.Mode), from: s.dir}
			if fc.mode == 0 {
				fc.mode = 0o600
			}
			byPath[rf.Path] = fc
			order = append(order, rf.Path)
		}
	}
	// Written files first, the manifest after them, removals last.
	var writes, manifest, removes []*fileChange
	for _, p := range order {
		f := byPath[p]
		switch {
		case !f.changed():
		case !f.newExists:
			removes = append(removes, f)
		case p == "/"+manifestRel:
			manifest = append(manifest, f)
		default:
			writes = append(writes, f)
		}
	}
	t.files = append(append(writes, manifest...), removes...)
	for _, f := range t.files {
		switch {
		case !f.newExists:
			fmt.Fprintf(o.Out, "%s did not exist then: it goes\n", f.rel)
		case !f.oldExists:
			fmt.Fprintf(o.Out, "%s comes back\n", f.rel)
		default:
			fmt.Fprint(o.Out, unifiedDiff(f.rel, f.rel+" (backup)", f.old, f.new))
		}
	}
	for _, p := range order {
		if !byPath[p].changed() {
			fmt.Fprintf(o.Out, "%s is already the backup\n", p)
		}
	}
	t.kc = o.planKubeadmRevert(ctx, sets[:n])
	if t.kc != nil {
		fmt.Fprintf(o.Out, "\nkube-system/kubeadm-config, back to %s:\n%s", kubeadmBackupBase, t.kc.diff)
	}
	if len(t.files) == 0 && t.kc == nil {
		fmt.Fprintln(o.Out, "\nnothing to revert: everything is already as it was then")
		return nil
	}
	if o.DryRun {
		fmt.Fprintln(o.Out, "\nDry run: nothing written.")
		return nil
	}
	if o.Confirm != nil {
		ok, err := o.Confirm("")
		if err != nil || !ok {
			if err == nil {
				fmt.Fprintln(o.Out, "Nothing written.")
			}
			return err
		}
	}
	wait := !o.NoWait && len(manifest) > 0
	before := ""
	if wait {
		if probe, err := o.probe(); err == nil {
			o.Probe = probe
			if _, inst, err := probe(ctx); err == nil {
				before = inst
			}
		} else {
			wait = false
		}
	}
	t.changes = []string{t.about}
	if err := t.run(ctx); err != nil {
		return fmt.Errorf("revert failed: %w", err)
	}
	for _, f := range t.files {
		if f.newExists {
			fmt.Fprintf(o.Out, "restored %s from %s\n", f.rel, f.from)
		} else {
			fmt.Fprintf(o.Out, "removed %s, which setup had written\n", f.rel)
		}
	}
	if t.kc != nil {
		fmt.Fprintf(o.Out, "restored kube-system/kubeadm-config ClusterConfiguration from %s\n", t.kc.from)
	}
	return o.settle(ctx, t, wait, before)
}

// wroteFile: what a set wrote to a path ("" if it removed it), if it touched it.
func wroteFile(s *backupSet, p string) (string, bool) {
	for _, rf := range s.rec.Files {
		if rf.Path == p {
			return rf.NewSum, true
		}
	}
	return "", false
}

// planKubeadmRevert: kube-system/kubeadm-config back to its text before the
// oldest of sets that changed it, if it still holds what the newest of them
// wrote; else it says in one line why not, and returns nil.
func (o *Options) planKubeadmRevert(ctx context.Context, sets []*backupSet) *kubeadmChange {
	if !o.KubeadmConfig {
		return nil
	}
	var oldest, newest *backupSet
	for _, s := range sets {
		if s.rec.Kubeadm != nil {
			if newest == nil {
				newest = s
			}
			oldest = s
		}
	}
	if oldest == nil {
		return nil
	}
	from := filepath.Join(oldest.dir, oldest.rec.Kubeadm.Backup)
	before, err := readBounded(from, maxReadSize)
	if err == nil && sum(before) != oldest.rec.Kubeadm.OldSum {
		err = errors.New("the backup is damaged (its checksum is not the one recorded)")
	}
	if err != nil {
		fmt.Fprintf(o.Err, "kube-system/kubeadm-config not restored: %v\n", err)
		return nil
	}
	k, err := o.kubeadmNow(ctx)
	switch {
	case apierrors.IsNotFound(err):
		fmt.Fprintf(o.Err, "kube-system/kubeadm-config not restored: it is gone; its ClusterConfiguration before setup is in %s\n", from)
		return nil
	case err != nil:
		fmt.Fprintf(o.Err, "kube-system/kubeadm-config not restored (%s): put its ClusterConfiguration back by hand from %s\n", oneLine(err.Error()), from)
		return nil
	}
	cur := sum([]byte(k.cur))
	switch {
	case k.cur == string(before):
		fmt.Fprintf(o.Out, "kube-system/kubeadm-config already holds the ClusterConfiguration of %s\n", from)
		return nil
	case cur != newest.rec.Kubeadm.NewSum:
		fmt.Fprintf(o.Err, "kube-system/kubeadm-config was changed since setup wrote it: left alone (its ClusterConfiguration before setup is in %s)\n", from)
		return nil
	}
	k.old, k.new, k.from = k.cur, string(before), from
	k.diff = unifiedDiff("kubeadm-config/ClusterConfiguration", "kubeadm-config/ClusterConfiguration (backup)", []byte(k.cur), before)
	return k
}

// stamp formats a backup time for messages.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }
