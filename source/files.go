package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// filesKind is the files named on the command line (or the one a master's
// manifest names), each with its rotated backups before it, oldest first
// (open.go: Backups, plan, orderFiles); a pipe or FIFO named as a file is
// read as a stream. The live files are followed by the set's tailer
// (follow.go, tailer.go).
type filesKind struct {
	noKind
	paths []string
}

func (k *filesKind) describe() []string { return k.paths }

func (k *filesKind) open(_ context.Context, s *Set) ([]string, error) {
	var problems []string
	var planned []plannedFile
	for _, p := range k.paths {
		files, err := plan(p)
		if err != nil {
			problems = append(problems, err.Error())
		}
		planned = append(planned, files...)
	}
	for _, pf := range orderFiles(planned) {
		in, err := openFile(pf.path, pf.live)
		if in != nil {
			in.family = filepath.Clean(pf.family)
		}
		if err != nil {
			if pf.live && pf.backups > 0 && errors.Is(err, os.ErrNotExist) {
				problems = append(problems, fmt.Sprintf("%s: not found; reading its %d rotated backups", pf.path, pf.backups))
			} else {
				problems = append(problems, err.Error())
			}
			continue
		}
		s.inputs = append(s.inputs, in)
	}
	return problems, nil
}

// Again opens the files of s again, for a second read with other options
// (the suggestion when nothing matched), or returns nil when s reads
// anything that cannot be read twice: standard input, pipes, the pods', the
// nodes', a store's answer.
func (s *Set) Again(ctx context.Context, opt Options) *Set {
	var paths []string
	for _, k := range s.kinds {
		fk, ok := k.(*filesKind)
		if !ok {
			return nil
		}
		paths = append(paths, fk.paths...)
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() && !fi.IsDir() {
			return nil
		}
	}
	again, err := Open(ctx, Spec{Paths: paths}, opt)
	if err != nil {
		return nil
	}
	return again
}
