package setup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// One run of setup (or --revert) is one transaction over every file it
// touches (the policy, the manifest) and kube-system/kubeadm-config's
// ClusterConfiguration:
//
//  1. backup: the old bytes of each, and a record of the run, go into a
//     folder of their own, backup/<time>/, written beside it as a dotfolder
//     and renamed into place (a backup set is whole or absent); its record
//     says "applying";
//  2. stage: each new file is written and synced as a dotfile beside the
//     file it replaces (the kubelet ignores dotfiles in the manifests folder);
//  3. kubeadm-config is updated (while the apiserver is surely up), with the
//     resourceVersion read before, so a change in between fails it;
//  4. commit: each dotfile is renamed over its file, the manifest last, so it
//     never names a policy that is not in place;
//  5. after the apiserver came back (or at once with --no-wait) the record
//     says "done".
//
// A failure at any step puts back everything done so far and removes the
// backup set: every file is all old. A run killed midway leaves a record
// saying "applying": the next run of setup or --revert puts its files back
// first (recoverIncomplete). --revert restores the old bytes of one or more
// runs, as a transaction of its own.

// Steps where tests inject failures (Options.failAt), in order; stage and
// commit happen once per file ("stage /etc/kubernetes/audit-policy.yaml").
const (
	stepBackup  = "backup"
	stepStage   = "stage"
	stepKubeadm = "kubeadm-config"
	stepCommit  = "commit"
	stepDone    = "done"
)

// errKilled, returned by a test's failAt, stops a transaction where it is
// without putting anything back: what a kill -9 would leave.
var errKilled = errors.New("killed")

// keepBackups is how many backup sets are kept: the newest ones, and always
// the oldest (the node as it was before the first setup).
const keepBackups = 10

const recordName = "record.json"

// record is record.json in a backup set.
type record struct {
	Version int       `json:"version"`
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"` // "setup" or "revert"
	About   string    `json:"about"`
	Changes []string  `json:"changes,omitempty"`
	State   string    `json:"state"` // "applying" or "done"
	Files   []recFile `json:"files"`
	Kubeadm *recKube  `json:"kubeadmConfig,omitempty"`
}

type recFile struct {
	Path   string `json:"path"`             // on the node
	Backup string `json:"backup,omitempty"` // its old bytes in the set; "" if it did not exist
	OldSum string `json:"oldSha256,omitempty"`
	NewSum string `json:"newSha256,omitempty"` // "" when the run removed it
	Mode   uint32 `json:"mode"`
}

type recKube struct {
	Backup string `json:"backup"` // the old ClusterConfiguration in the set
	OldSum string `json:"oldSha256"`
	NewSum string `json:"newSha256"`
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fileChange is one file of a transaction.
type fileChange struct {
	rel       string // on the node
	abs       string // in the root
	old       []byte
	oldExists bool
	new       []byte
	newExists bool
	mode      os.FileMode

	staged    string // the dotfile, once written
	committed bool
	from      string // --revert: the backup set new comes from
}

func (f *fileChange) changed() bool {
	return f.oldExists != f.newExists || !bytes.Equal(f.old, f.new)
}

func dotfile(abs string) string {
	dir, base := filepath.Split(abs)
	return filepath.Join(dir, "."+base+".kauditui-new")
}

// txn is one transaction.
type txn struct {
	o       *Options
	kind    string
	about   string
	changes []string
	files   []*fileChange // written in this order; the manifest is last
	kc      *kubeadmChange
	now     time.Time

	dir     string // the backup set, once written
	kcDone  bool
	printed bool
}

func (t *txn) hook(step string) error { return hook(t.o.failAt, step) }

// run does steps 1 to 4. On an error everything is put back (unless the
// test killed it), and the error says so.
func (t *txn) run(ctx context.Context) error {
	err := t.backup()
	if err == nil {
		err = t.stage()
	}
	if err == nil && t.kc != nil {
		if err = t.hook(stepKubeadm); err == nil {
			if err = t.kc.apply(ctx); err == nil {
				t.kcDone = true
			} else {
				err = fmt.Errorf("updating kube-system/kubeadm-config failed (%s)", oneLine(err.Error()))
			}
		}
	}
	if err == nil {
		err = t.commit()
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, errKilled) {
		return err
	}
	return t.fail(ctx, err)
}

// fail puts everything back and says how that went.
func (t *txn) fail(ctx context.Context, cause error) error {
	if rerr := t.rollback(ctx); rerr != nil {
		return fmt.Errorf("%v; and putting the files back failed: %v (restore them by hand from %s)", cause, rerr, t.dir)
	}
	return fmt.Errorf("%v; nothing changed: every file is as before (this run's backup is removed)", cause)
}

func (t *txn) backup() error {
	base := t.o.path(backupRel)
	if err := os.MkdirAll(base, 0o700); err != nil {
		return fmt.Errorf("cannot make the backup folder: %v", err)
	}
	// One folder a run, named by its time (a later microsecond if taken).
	stamp := t.now.UTC().Format(backupTimeFormat)
	final := filepath.Join(base, stamp)
	for i := 1; ; i++ {
		if _, err := os.Lstat(final); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if i > 1000 {
			return fmt.Errorf("backup %s already exists", final)
		}
		stamp = t.now.UTC().Add(time.Duration(i) * time.Microsecond).Format(backupTimeFormat)
		final = filepath.Join(base, stamp)
	}
	tmp := filepath.Join(base, "."+stamp+".partial")
	os.RemoveAll(tmp)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return fmt.Errorf("cannot make a backup: %v", err)
	}
	rec := record{Version: 1, Time: t.now.UTC(), Kind: t.kind, About: t.about, Changes: t.changes, State: "applying"}
	err := func() error {
		for i, f := range t.files {
			rf := recFile{Path: f.rel, Mode: uint32(f.mode.Perm())}
			if f.oldExists {
				rf.Backup = fmt.Sprintf("%d-%s", i+1, filepath.Base(f.rel))
				rf.OldSum = sum(f.old)
				if err := writeSynced(filepath.Join(tmp, rf.Backup), f.old, 0o600); err != nil {
					return err
				}
			}
			if f.newExists {
				rf.NewSum = sum(f.new)
			}
			rec.Files = append(rec.Files, rf)
		}
		if t.kc != nil {
			rec.Kubeadm = &recKube{Backup: kubeadmBackupBase, OldSum: sum([]byte(t.kc.old)), NewSum: sum([]byte(t.kc.new))}
			if err := writeSynced(filepath.Join(tmp, kubeadmBackupBase), []byte(t.kc.old), 0o600); err != nil {
				return err
			}
		}
		if err := writeRecord(filepath.Join(tmp, recordName), &rec, false); err != nil {
			return err
		}
		if err := syncDir(tmp); err != nil {
			return err
		}
		if err := t.hook(stepBackup); err != nil {
			return err
		}
		if err := os.Rename(tmp, final); err != nil {
			return err
		}
		return syncDir(base)
	}()
	if err != nil {
		if !errors.Is(err, errKilled) {
			os.RemoveAll(tmp)
			return fmt.Errorf("backup failed, nothing changed: %v", err)
		}
		return err
	}
	t.dir = final
	for _, rf := range rec.Files {
		if rf.Backup != "" {
			fmt.Fprintf(t.o.Out, "backup: %s (%s)\n", filepath.Join(final, rf.Backup), rf.Path)
		} else {
			fmt.Fprintf(t.o.Out, "backup: %s records that %s did not exist\n", filepath.Join(final, recordName), rf.Path)
		}
	}
	if rec.Kubeadm != nil {
		fmt.Fprintf(t.o.Out, "backup: %s (kube-system/kubeadm-config ClusterConfiguration)\n", filepath.Join(final, kubeadmBackupBase))
	}
	return nil
}

func (t *txn) stage() error {
	for _, f := range t.files {
		if !f.newExists {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(f.abs), 0o755); err != nil {
			return fmt.Errorf("writing %s failed: %v", f.rel, err)
		}
		mode := f.mode
		if fi, err := os.Stat(f.abs); err == nil {
			mode = fi.Mode().Perm()
		}
		tmp := dotfile(f.abs)
		f.staged = tmp
		os.Remove(tmp)
		if err := writeSynced(tmp, f.new, mode); err != nil {
			return fmt.Errorf("writing %s failed: %v", f.rel, err)
		}
		if err := t.hook(stepStage + " " + f.rel); err != nil {
			return fmt.Errorf("writing %s failed: %w", f.rel, err)
		}
	}
	return nil
}

func (t *txn) commit() error {
	for _, f := range t.files {
		if err := t.hook(stepCommit + " " + f.rel); err != nil {
			return fmt.Errorf("replacing %s failed: %w", f.rel, err)
		}
		var err error
		if f.newExists {
			err = os.Rename(f.staged, f.abs)
		} else {
			err = os.Remove(f.abs)
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
		}
		if err != nil {
			return fmt.Errorf("replacing %s failed: %v", f.rel, err)
		}
		f.staged = ""
		f.committed = true
		if err := syncDir(filepath.Dir(f.abs)); err != nil {
			return fmt.Errorf("replacing %s failed: %v", f.rel, err)
		}
	}
	return nil
}

// done marks the backup set complete, and prunes old ones.
func (t *txn) done() error {
	if err := t.hook(stepDone); err != nil {
		return err
	}
	p := filepath.Join(t.dir, recordName)
	rec, err := readRecord(p)
	if err != nil {
		return err
	}
	rec.State = "done"
	if err := writeRecord(p, rec, true); err != nil {
		return err
	}
	pruneBackups(t.o)
	return nil
}

// rollback puts back what the transaction changed, newest first, and
// removes its backup set when all went well.
func (t *txn) rollback(ctx context.Context) error {
	var errs []string
	for i := len(t.files) - 1; i >= 0; i-- {
		f := t.files[i]
		if f.staged != "" {
			os.Remove(f.staged)
			f.staged = ""
		}
		if !f.committed {
			continue
		}
		if err := restoreFile(f.abs, f.old, f.oldExists, f.mode); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", f.rel, err))
			continue
		}
		f.committed = false
	}
	if t.kcDone {
		if err := t.kc.restore(context.WithoutCancel(ctx), t.o); err != nil {
			errs = append(errs, "kube-system/kubeadm-config: "+oneLine(err.Error()))
		} else {
			t.kcDone = false
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	if t.dir != "" {
		os.RemoveAll(t.dir)
		t.dir = ""
	}
	return nil
}

// restoreFile puts old bytes back (or removes a file that was not there).
func restoreFile(abs string, old []byte, existed bool, mode os.FileMode) error {
	if !existed {
		err := os.Remove(abs)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	return writeAtomic(abs, old, mode)
}

// writeSynced creates a file with data, synced to disk.
func writeSynced(p string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(p)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(p)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(p)
		return err
	}
	return nil
}

func writeRecord(p string, rec *record, replace bool) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if replace {
		return writeAtomic(p, b, 0o600)
	}
	return writeSynced(p, b, 0o600)
}

func readRecord(p string) (*record, error) {
	b, err := readBounded(p, maxReadSize)
	if err != nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	return &rec, nil
}

// backupSet is one backup set on disk.
type backupSet struct {
	dir string
	rec *record
}

// backupSets lists the complete backup sets (state applying too, when all
// is true), newest first.
func backupSets(o *Options, all bool) ([]*backupSet, error) {
	base := o.path(backupRel)
	entries, err := os.ReadDir(base)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var sets []*backupSet
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if _, err := time.Parse(backupTimeFormat, e.Name()); err != nil {
			continue
		}
		dir := filepath.Join(base, e.Name())
		rec, err := readRecord(filepath.Join(dir, recordName))
		if err != nil {
			continue
		}
		if rec.State == "done" || all {
			sets = append(sets, &backupSet{dir: dir, rec: rec})
		}
	}
	sort.Slice(sets, func(i, j int) bool { return filepath.Base(sets[i].dir) > filepath.Base(sets[j].dir) })
	return sets, nil
}

// pruneBackups keeps the newest keepBackups sets and the oldest one.
func pruneBackups(o *Options) {
	sets, err := backupSets(o, false)
	if err != nil || len(sets) <= keepBackups+1 {
		return
	}
	for _, s := range sets[keepBackups : len(sets)-1] {
		os.RemoveAll(s.dir)
	}
}

// oldBytes reads the old bytes of one file of a set.
func (s *backupSet) oldBytes(rf recFile) ([]byte, error) {
	if rf.Backup == "" {
		return nil, nil
	}
	b, err := readBounded(filepath.Join(s.dir, rf.Backup), maxReadSize)
	if err != nil {
		return nil, err
	}
	if sum(b) != rf.OldSum {
		return nil, fmt.Errorf("backup %s is damaged (its checksum is not the one recorded)", filepath.Join(s.dir, rf.Backup))
	}
	return b, nil
}

// currentSum is the checksum of a file on the node, "" if it does not exist.
func currentSum(o *Options, rel string) (string, []byte, bool, error) {
	b, err := readBounded(o.path(rel), maxReadSize)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, err
	}
	return sum(b), b, true, nil
}

// recoverIncomplete puts back the files of runs that stopped midway (killed
// between steps): each file that holds what the run wrote gets its old bytes
// back; stray dotfiles go. It says what it did in one line a run.
func recoverIncomplete(ctx context.Context, o *Options) error {
	sets, err := backupSets(o, true)
	if err != nil {
		return err
	}
	// Half-written backup folders are no backups.
	if entries, err := os.ReadDir(o.path(backupRel)); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".partial") {
				os.RemoveAll(filepath.Join(o.path(backupRel), e.Name()))
			}
		}
	}
	for _, s := range sets {
		if s.rec.State == "done" {
			continue
		}
		if o.DryRun {
			fmt.Fprintf(o.Err, "an earlier run of setup stopped midway (%s): the next run, or --revert, puts its files back first\n", s.dir)
			continue
		}
		var restored, left []string
		for i := len(s.rec.Files) - 1; i >= 0; i-- {
			rf := s.rec.Files[i]
			abs := o.path(rf.Path)
			os.Remove(dotfile(abs))
			cur, _, exists, err := currentSum(o, rf.Path)
			if err != nil {
				return fmt.Errorf("an earlier run stopped midway (%s) and %s cannot be read: %v", s.dir, rf.Path, err)
			}
			switch {
			case (exists && cur == rf.OldSum) || (!exists && rf.Backup == ""):
			case (exists && cur == rf.NewSum) || (!exists && rf.NewSum == ""):
				old, err := s.oldBytes(rf)
				if err != nil {
					return err
				}
				if err := restoreFile(abs, old, rf.Backup != "", os.FileMode(rf.Mode)); err != nil {
					return fmt.Errorf("an earlier run stopped midway (%s); putting back %s failed: %v", s.dir, rf.Path, err)
				}
				restored = append(restored, rf.Path)
			default:
				left = append(left, rf.Path)
			}
		}
		if s.rec.Kubeadm != nil {
			if kc, err := o.kubeadmNow(ctx); err == nil && kc != nil && sum([]byte(kc.cur)) == s.rec.Kubeadm.NewSum {
				old, err := readBounded(filepath.Join(s.dir, s.rec.Kubeadm.Backup), maxReadSize)
				if err == nil {
					kc.old, kc.new = kc.cur, string(old)
					if err = kc.apply(ctx); err == nil {
						restored = append(restored, "kube-system/kubeadm-config")
					}
				}
				if err != nil {
					left = append(left, "kube-system/kubeadm-config ("+oneLine(err.Error())+")")
				}
			}
		}
		msg := fmt.Sprintf("an earlier run of setup stopped midway (%s): ", filepath.Base(s.dir))
		if len(restored) > 0 {
			msg += "put back " + strings.Join(restored, ", ")
		} else {
			msg += "it had changed nothing"
		}
		if len(left) > 0 {
			msg += "; changed since, left as they are: " + strings.Join(left, ", ")
			fmt.Fprintln(o.Err, msg)
			// Keep the set: its backups are what is left to restore by hand.
			rec := *s.rec
			rec.State = "done"
			rec.About = "stopped midway; " + rec.About
			_ = writeRecord(filepath.Join(s.dir, recordName), &rec, true)
			continue
		}
		fmt.Fprintln(o.Err, msg)
		os.RemoveAll(s.dir)
	}
	return nil
}
