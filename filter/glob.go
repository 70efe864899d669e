package filter

import (
	"strings"
	"unsafe"
)

// Matching is case-insensitive for ASCII letters; other bytes compare
// exactly. Patterns are lowered once at Parse time and subjects are folded
// byte by byte while comparing, so matching allocates nothing.

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold reports s == low ignoring ASCII case; low is already lowercase.
func equalFold(s, low string) bool {
	if len(s) != len(low) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != low[i] && lower(c) != low[i] {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, low string) bool {
	return len(s) >= len(low) && equalFold(s[:len(low)], low)
}

func hasSuffixFold(s, low string) bool {
	return len(s) >= len(low) && equalFold(s[len(s)-len(low):], low)
}

// byteRank orders bytes by how common they are in audit JSON (measured on
// audit logs), most common first; bytes not listed are rarer than all of them.
const byteRank = "\"e0tsai:roun,dcmp.-1l/vbk2g{}6fz3y h8wq7[]4x\\\n5j()=9&?"

// needle is a lowercase literal prepared for case-insensitive search: the
// search jumps between occurrences of its rarest byte (either case) with
// IndexByte and compares the whole needle around each.
type needle struct {
	low    string
	rare   int  // index in low of the byte to look for
	lc, uc byte // that byte in lower and upper case (equal when not a letter)
}

func newNeedle(low string) needle {
	n := needle{low: low}
	best := -1
	for i := 0; i < len(low); i++ {
		c := low[i]
		r := strings.IndexByte(byteRank, c)
		if r < 0 {
			r = len(byteRank)
		}
		if r > best {
			best, n.rare = r, i
		}
	}
	if len(low) > 0 {
		n.lc, n.uc = low[n.rare], low[n.rare]
		if 'a' <= n.lc && n.lc <= 'z' {
			n.uc = n.lc - ('a' - 'A')
		}
	}
	return n
}

// indexFold is the index of the first occurrence of low in s ignoring ASCII
// case, or -1.
func indexFold(s, low string) int {
	n := newNeedle(low)
	return n.index(s)
}

// index is the index of the first occurrence of the needle in s, or -1.
// Candidates for both cases of the rare byte are found with IndexByte, each
// position remembered until passed, so long lines stay linear. A needle
// without letters (an IP address) is searched the same way, from its
// rarest byte: strings.Index starts from the first, and an address's
// first digit is everywhere in audit JSON (times, IDs, versions), which
// made ip= twice grep's time.
func (n *needle) index(s string) int {
	m := len(n.low)
	if m == 0 {
		return 0
	}
	if m > len(s) {
		return -1
	}
	j := n.rare
	end := len(s) - m + j + 1 // the rare byte of a match lies in s[j:end]
	nextL, nextU := -2, -2
	if n.lc == n.uc {
		nextU = -1
	}
	for k := j; k < end; {
		if nextL != -1 && nextL < k {
			if i := strings.IndexByte(s[k:end], n.lc); i < 0 {
				nextL = -1
			} else {
				nextL = k + i
			}
		}
		if nextU != -1 && nextU < k {
			if i := strings.IndexByte(s[k:end], n.uc); i < 0 {
				nextU = -1
			} else {
				nextU = k + i
			}
		}
		switch {
		case nextL < 0 && nextU < 0:
			return -1
		case nextU < 0 || (nextL >= 0 && nextL < nextU):
			k = nextL
		default:
			k = nextU
		}
		if equalFold(s[k-j:k-j+m], n.low) {
			return k - j
		}
		k++
	}
	return -1
}

// bytesString views b as a string without copying, for searching only.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// glob is one compiled alternative: lowercase literal segments separated by
// '*' wildcards. A '*' matches any run of bytes, '/' included.
type glob struct {
	segs   []string // literal segments; with no star, segs[0] is the whole value
	find   []needle // the segments prepared for searching
	star   bool     // has at least one wildcard
	minLen int
}

func compileGlob(v value) glob {
	g := glob{segs: []string{""}}
	for _, p := range v.pieces {
		if p.star {
			g.star = true
			g.segs = append(g.segs, "")
			continue
		}
		low := lowerASCII(p.lit)
		g.segs[len(g.segs)-1] += low
		g.minLen += len(low)
	}
	for _, seg := range g.segs {
		g.find = append(g.find, newNeedle(seg))
	}
	return g
}

// exact is a glob that matches s, ignoring ASCII case.
func exactGlob(s string) glob {
	low := lowerASCII(s)
	return glob{segs: []string{low}, minLen: len(low)}
}

// match reports whether the whole of s matches.
func (g *glob) match(s string) bool {
	if !g.star {
		return equalFold(s, g.segs[0])
	}
	if len(s) < g.minLen {
		return false
	}
	first, last := g.segs[0], g.segs[len(g.segs)-1]
	if !hasPrefixFold(s, first) || !hasSuffixFold(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for k := 1; k < len(g.find)-1; k++ {
		i := g.find[k].index(s)
		if i < 0 {
			return false
		}
		s = s[i+len(g.segs[k]):]
	}
	return true
}

// contains reports whether the segments occur in s in order, anywhere: the
// bare-word search, where "kubyk*ns" finds kubyk ... ns on one line.
func (g *glob) contains(s string) bool {
	if len(s) < g.minLen {
		return false
	}
	for k := range g.find {
		i := g.find[k].index(s)
		if i < 0 {
			return false
		}
		s = s[i+len(g.segs[k]):]
	}
	return true
}

// anyOf reports whether any glob matches s.
func anyOf(gs []glob, s string) bool {
	for i := range gs {
		if gs[i].match(s) {
			return true
		}
	}
	return false
}
