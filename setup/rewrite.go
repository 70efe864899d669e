package setup

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aymanbagabas/go-udiff/lcs"
	yamlv3 "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// Writing a changed manifest back keeps what the file has that the typed Pod
// does not: comments, key order, quoting, blank lines, indentation and CRLF
// line ends. Patch changes the typed Pod; Rewrite carries that change into
// the file in two three-way merges:
//
//  1. on YAML node trees (go.yaml.in/yaml/v3, the go-yaml that sigs.k8s.io/yaml
//     itself is built on, already in go.mod's module graph): the difference
//     between the old and the new Pod, both marshalled as kubeadm would, is
//     applied to the file's own tree, so untouched nodes keep their comments
//     and style, and a changed scalar keeps its comments;
//  2. on lines: the file's tree, encoded before and after that change, gives
//     the changed lines; they are spliced into the file's own text, so blank
//     lines and odd indentation elsewhere stay as they were.
//
// Every result is parsed again and must be exactly the patched Pod; when a
// step cannot guarantee that, the previous one is used, down to kubeadm's
// plain marshalling, and Rewrite says in one line what is lost.

// errShape: the file's tree does not line up with the typed Pod.
var errShape = errors.New("the manifest's YAML does not line up with its pod")

// Rewrite returns the manifest's text changed to hold want, and notes, each
// one line, about what of the file's text could not be kept.
func (m *manifest) Rewrite(want *corev1.Pod) ([]byte, []string, error) {
	if equality.Semantic.DeepEqual(m.Pod, want) {
		return m.raw, nil, nil
	}
	target := &manifest{Pod: want, idx: m.idx, nullCreationTimestamp: m.nullCreationTimestamp}
	plain, err := target.Marshal()
	if err != nil {
		return nil, nil, err
	}
	text, crlf := toLF(m.raw)
	var notes []string
	out, err := rewriteTree(m, target, text)
	if err == nil {
		err = verifyManifest(out, want)
	}
	if err != nil {
		n := countComments(text)
		note := "the manifest is written as kubeadm writes it (keys sorted, two-space indentation)"
		if n > 0 {
			note = fmt.Sprintf("the manifest's %d comment line(s), blank lines and key order will be lost: %s", n, oneLine(err.Error()))
		}
		return withLineEnds(plain, crlf), []string{note}, nil
	}
	if lost := lostComments(text, out); len(lost) > 0 {
		notes = append(notes, fmt.Sprintf("%d comment(s) of the manifest go with the lines they belong to: %s", len(lost), strings.Join(lost, " ")))
	}
	if crlf == "mixed" {
		notes = append(notes, "the manifest mixes CRLF and LF line ends: every line ends in CRLF after the change")
	}
	return withLineEnds(out, crlf), notes, nil
}

// toLF returns the text with LF line ends and what it had: "", "crlf" or "mixed".
func toLF(b []byte) ([]byte, string) {
	n := bytes.Count(b, []byte("\r\n"))
	if n == 0 {
		return b, ""
	}
	kind := "crlf"
	if n != bytes.Count(b, []byte("\n")) {
		kind = "mixed"
	}
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), kind
}

func withLineEnds(b []byte, kind string) []byte {
	if kind == "" {
		return b
	}
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// verifyManifest: the text parses (strictly) to exactly want.
func verifyManifest(text []byte, want *corev1.Pod) error {
	got, err := parseManifest(text)
	if err != nil {
		return err
	}
	if !equality.Semantic.DeepEqual(got.Pod, want) {
		return errors.New("the merged YAML does not read back as the patched pod")
	}
	return nil
}

func parseNode(b []byte) (*yamlv3.Node, error) {
	dec := yamlv3.NewDecoder(bytes.NewReader(b))
	var doc yamlv3.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var more yamlv3.Node
	if err := dec.Decode(&more); err == nil {
		return nil, errors.New("the manifest holds more than one YAML document")
	}
	if doc.Kind != yamlv3.DocumentNode || len(doc.Content) != 1 {
		return nil, errShape
	}
	return &doc, nil
}

// encodeStyle is how a file indents: spaces a level, and whether a list
// under a key starts at the key's column (kubeadm) or two further.
type encodeStyle struct {
	indent  int
	compact bool
}

func encodeNode(doc *yamlv3.Node, st encodeStyle) ([]byte, error) {
	var buf bytes.Buffer
	enc := yamlv3.NewEncoder(&buf)
	enc.SetIndent(st.indent)
	if st.compact {
		enc.CompactSeqIndent()
	}
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// rewriteTree is steps 1 and 2.
func rewriteTree(old, target *manifest, text []byte) ([]byte, error) {
	t0b, err := old.Marshal()
	if err != nil {
		return nil, err
	}
	t1b, err := target.Marshal()
	if err != nil {
		return nil, err
	}
	t0, err := parseNode(t0b)
	if err != nil {
		return nil, err
	}
	t1, err := parseNode(t1b)
	if err != nil {
		return nil, err
	}
	orig, err := parseNode(text)
	if err != nil {
		return nil, err
	}
	edited, err := parseNode(text)
	if err != nil {
		return nil, err
	}
	if err := merge3(edited.Content[0], t0.Content[0], t1.Content[0]); err != nil {
		return nil, err
	}
	// The encoder style closest to the file's own.
	var best encodeStyle
	var before []byte
	bestDist := -1
	for _, st := range []encodeStyle{{2, true}, {2, false}, {4, false}, {4, true}} {
		b, err := encodeNode(orig, st)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(b, text) { // kubeadm's own style, as a rule
			best, before = st, b
			break
		}
		d := lineDistance(string(text), string(b))
		if bestDist < 0 || d < bestDist {
			best, before, bestDist = st, b, d
		}
	}
	after, err := encodeNode(edited, best)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(before, text) {
		return after, nil
	}
	if merged, ok := spliceLines(string(text), string(before), string(after)); ok {
		if verifyManifest([]byte(merged), target.Pod) == nil {
			return []byte(merged), nil
		}
	}
	return after, nil
}

func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// lineDistance is the number of lines deleted or inserted from a to b.
func lineDistance(a, b string) int {
	n := 0
	for _, d := range lcs.DiffLines(splitLines(a), splitLines(b)) {
		n += d.End - d.Start + d.ReplEnd - d.ReplStart
	}
	return n
}

// spliceLines applies the line changes from before to after onto text,
// where before is text reformatted: each changed run of lines must be lines
// that text has as they are, one after the other.
func spliceLines(text, before, after string) (string, bool) {
	a, b, c := splitLines(text), splitLines(before), splitLines(after)
	bToA := make([]int, len(b)) // the line of text each line of before is, or -1
	for i := range bToA {
		bToA[i] = -1
	}
	ai, bi := 0, 0
	for _, d := range lcs.DiffLines(a, b) {
		for ; ai < d.Start; ai, bi = ai+1, bi+1 {
			bToA[bi] = ai
		}
		ai, bi = d.End, d.ReplEnd
	}
	for ; ai < len(a) && bi < len(b); ai, bi = ai+1, bi+1 {
		bToA[bi] = ai
	}
	var out []string
	next := 0 // next line of text not yet copied
	for _, d := range lcs.DiffLines(b, c) {
		var from, to int
		if d.Start < d.End {
			from = bToA[d.Start]
			for j := d.Start; j < d.End; j++ {
				if bToA[j] < 0 || bToA[j] != from+(j-d.Start) {
					return "", false
				}
			}
			to = from + (d.End - d.Start)
		} else { // an insertion: after the line before it
			switch {
			case d.Start == 0:
				from = 0
			case bToA[d.Start-1] >= 0:
				from = bToA[d.Start-1] + 1
			default:
				return "", false
			}
			to = from
		}
		if from < next {
			return "", false
		}
		out = append(out, a[next:from]...)
		out = append(out, c[d.ReplStart:d.ReplEnd]...)
		next = to
	}
	out = append(out, a[next:]...)
	return strings.Join(out, ""), true
}

// merge3 changes o (the file's node) by what changed from t0 to t1 (the old
// and new pod as kubeadm would write them). o lines up with t0: same keys
// where t0 has them, same number of list items.
func merge3(o, t0, t1 *yamlv3.Node) error {
	if equalNode(t0, t1) {
		return nil
	}
	if o.Kind == yamlv3.AliasNode || o.Kind != t0.Kind {
		return errShape
	}
	if t0.Kind != t1.Kind {
		replaceNode(o, t1)
		return nil
	}
	switch t1.Kind {
	case yamlv3.ScalarNode:
		o.Value = t1.Value
		o.Tag = t1.Tag
		if t1.ShortTag() != "!!str" || (o.Style&(yamlv3.DoubleQuotedStyle|yamlv3.SingleQuotedStyle)) == 0 {
			o.Style = t1.Style
		}
		return nil
	case yamlv3.MappingNode:
		return mergeMap(o, t0, t1)
	case yamlv3.SequenceNode:
		return mergeSeq(o, t0, t1)
	}
	return errShape
}

// replaceNode puts n's content in o, keeping o's comments.
func replaceNode(o, n *yamlv3.Node) {
	head, line, foot := o.HeadComment, o.LineComment, o.FootComment
	*o = *n
	o.HeadComment, o.LineComment, o.FootComment = head, line, foot
}

func mapIndex(n *yamlv3.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return i
		}
	}
	return -1
}

func mergeMap(o, t0, t1 *yamlv3.Node) error {
	for i := 0; i+1 < len(t1.Content); i += 2 {
		k := t1.Content[i].Value
		oi, ti := mapIndex(o, k), mapIndex(t0, k)
		switch {
		case oi >= 0 && ti >= 0:
			if err := merge3(o.Content[oi+1], t0.Content[ti+1], t1.Content[i+1]); err != nil {
				return err
			}
		case oi >= 0: // the file has it, the old pod did not write it (e.g. `env: []`)
			replaceNode(o.Content[oi+1], t1.Content[i+1])
		default:
			// After the key before it in t1's (sorted) order that o has.
			at := 0
			for j := i - 2; j >= 0; j -= 2 {
				if p := mapIndex(o, t1.Content[j].Value); p >= 0 {
					at = p + 2
					break
				}
			}
			o.Content = append(o.Content[:at:at], append([]*yamlv3.Node{t1.Content[i], t1.Content[i+1]}, o.Content[at:]...)...)
		}
	}
	for i := 0; i+1 < len(t0.Content); i += 2 {
		k := t0.Content[i].Value
		if mapIndex(t1, k) < 0 {
			if oi := mapIndex(o, k); oi >= 0 {
				o.Content = append(o.Content[:oi:oi], o.Content[oi+2:]...)
			}
		}
	}
	return nil
}

// itemName is the name of a list item that is a mapping with a name.
func itemName(n *yamlv3.Node) (string, bool) {
	if n.Kind != yamlv3.MappingNode {
		return "", false
	}
	if i := mapIndex(n, "name"); i >= 0 && n.Content[i+1].Kind == yamlv3.ScalarNode {
		return n.Content[i+1].Value, true
	}
	return "", false
}

// sameItem: the same list item, maybe changed (named items by name).
func sameItem(a, b *yamlv3.Node) bool {
	na, okA := itemName(a)
	nb, okB := itemName(b)
	if okA || okB {
		return okA && okB && na == nb
	}
	return equalNode(a, b)
}

func mergeSeq(o, t0, t1 *yamlv3.Node) error {
	if len(o.Content) != len(t0.Content) {
		return errShape
	}
	pairs := align(t0.Content, t1.Content, sameItem)
	var out []*yamlv3.Node
	i, j := 0, 0
	flush := func(toI, toJ int) error {
		// A run of old items [i,toI) replaced by new ones [j,toJ): scalars
		// (command line items) change in place, keeping their comments.
		for i < toI && j < toJ && t0.Content[i].Kind == yamlv3.ScalarNode && t1.Content[j].Kind == yamlv3.ScalarNode {
			if err := merge3(o.Content[i], t0.Content[i], t1.Content[j]); err != nil {
				return err
			}
			out = append(out, o.Content[i])
			i, j = i+1, j+1
		}
		i = toI
		for ; j < toJ; j++ {
			out = append(out, t1.Content[j])
		}
		return nil
	}
	for _, p := range pairs {
		if err := flush(p[0], p[1]); err != nil {
			return err
		}
		if err := merge3(o.Content[i], t0.Content[i], t1.Content[j]); err != nil {
			return err
		}
		out = append(out, o.Content[i])
		i, j = i+1, j+1
	}
	if err := flush(len(t0.Content), len(t1.Content)); err != nil {
		return err
	}
	o.Content = out
	return nil
}

// align is a longest common subsequence of a and b under same: the index
// pairs, in order.
func align(a, b []*yamlv3.Node, same func(x, y *yamlv3.Node) bool) [][2]int {
	n, m := len(a), len(b)
	dp := make([][]int, n+1)
	for i := range dp {
		dp[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if same(a[i], b[j]) {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	var pairs [][2]int
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case same(a[i], b[j]):
			pairs = append(pairs, [2]int{i, j})
			i, j = i+1, j+1
		case dp[i+1][j] >= dp[i][j+1]:
			i++
		default:
			j++
		}
	}
	return pairs
}

func equalNode(a, b *yamlv3.Node) bool {
	if a.Kind != b.Kind || len(a.Content) != len(b.Content) {
		return false
	}
	if a.Kind == yamlv3.ScalarNode {
		return a.ShortTag() == b.ShortTag() && a.Value == b.Value
	}
	if a.Kind == yamlv3.AliasNode {
		return a.Alias == b.Alias
	}
	for i := range a.Content {
		if !equalNode(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}

// comments lists the comment lines of a YAML text, as the parser attaches them.
func comments(text []byte) []string {
	doc, err := parseNode(text)
	if err != nil {
		return nil
	}
	var out []string
	var walk func(n *yamlv3.Node)
	walk = func(n *yamlv3.Node) {
		for _, c := range []string{n.HeadComment, n.LineComment, n.FootComment} {
			for _, l := range strings.Split(c, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					out = append(out, l)
				}
			}
		}
		for _, k := range n.Content {
			walk(k)
		}
	}
	walk(doc)
	sort.Strings(out)
	return out
}

func countComments(text []byte) int { return len(comments(text)) }

// lostComments: the comment lines of before that after does not have.
func lostComments(before, after []byte) []string {
	have := map[string]int{}
	for _, c := range comments(after) {
		have[c]++
	}
	var lost []string
	for _, c := range comments(before) {
		if have[c] > 0 {
			have[c]--
			continue
		}
		lost = append(lost, fmt.Sprintf("%q", c))
	}
	return lost
}
