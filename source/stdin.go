package source

import "context"

// stdinKind is standard input, the path "-" (read once, as a stream: its
// lines are kept in the spool). Named twice, it is read once.
type stdinKind struct{ noKind }

func (stdinKind) describe() []string { return []string{"-"} }

func (stdinKind) open(_ context.Context, s *Set) ([]string, error) {
	if s.stdin == nil {
		return []string{"-: no standard input"}, nil
	}
	in := &input{Input: Input{Name: "-"}, family: "-"}
	in.openStream(s.stdin)
	s.inputs = append(s.inputs, in)
	return nil, nil
}
