package source

import (
	"context"

	"github.com/kauditui/kauditui/audit"
)

// inputKind is one kind of input. Open resolves a Spec into kinds
// (spec.go); Set.Load runs them. Each kind is one file:
//
//	files.go     files named on the command line and their rotated backups
//	stdin.go     standard input (and pipes named as files are read as streams there too)
//	podset.go    the kube-apiserver pods' logs through the Kubernetes API
//	nodefiles.go other masters' audit files through the API server's node proxy
//	store.go     a VictoriaLogs store's answer, then its tail
//
// Every kind's lines go through the same reader (load.go): classified,
// merged by time across families, spooled when they cannot be read again.
// A new kind (journald, an archive in object storage) is one more file.
type inputKind interface {
	// open, in Open: adds the inputs known before reading. A problem is
	// said as a warning (Open fails when no input named opens at all); an
	// error ends Open.
	open(ctx context.Context, s *Set) (problems []string, err error)
	// start, in Load before the history is read: adds the inputs found only
	// then (the nodes' files, listed through the API).
	start(ctx context.Context, s *Set) error
	// follow, in Load once the history is read: takes out of live the live
	// readers the kind follows itself (a node's live file) and returns the
	// rest, which the set's tailer polls.
	follow(ctx context.Context, st *audit.Store, live []*reader) []*reader
	// run, in Load beside the tailer: reads what the kind streams itself
	// (the pods' logs) until its history is read or, following, ctx ends;
	// waits for its followers.
	run(ctx context.Context, s *Set, st *audit.Store) error
	// following, after follow: whether the kind follows something itself
	// (a node's live file), so the set is live once the history is read.
	following() bool
	// incomplete is why what the kind read lacks part of its answer (the
	// store's answer broke off), or nil.
	incomplete() error
	// describe names what the kind reads, for people (the explorer's
	// sources).
	describe() []string
	close()
}

// noKind is an inputKind that does nothing: kinds embed it and write only
// the steps they take.
type noKind struct{}

func (noKind) open(context.Context, *Set) ([]string, error) { return nil, nil }
func (noKind) start(context.Context, *Set) error            { return nil }
func (noKind) follow(_ context.Context, _ *audit.Store, live []*reader) []*reader {
	return live
}
func (noKind) run(context.Context, *Set, *audit.Store) error { return nil }
func (noKind) incomplete() error                             { return nil }
func (noKind) following() bool                               { return false }
func (noKind) close()                                        {}

// Sources names what the set reads, for people: the paths, "-", the pods,
// the nodes, the store.
func (s *Set) Sources() []string {
	var names []string
	for _, k := range s.kinds {
		names = append(names, k.describe()...)
	}
	return names
}

// InputName is the name of input i (audit.Ref.Input: rotated backups have
// their own, pods and nodes join as they are read), or "".
func (s *Set) InputName(i int32) string {
	if in, ok := s.input(i); ok {
		return in.Name // set once, when the input is added
	}
	return ""
}
