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

// indexFold is the index of the first occurrence of low in s ignoring ASCII
// case, or -1. It jumps between candidates for the first byte with IndexByte,
// remembering the next position of each case so long lines stay linear.
func indexFold(s, low string) int {
	n := len(low)
	if n == 0 {
		return 0
	}
	if n > len(s) {
		return -1
	}
	c0 := low[0]
	if c0 < 'a' || c0 > 'z' {
		for i := 0; i+n <= len(s); {
			j := strings.IndexByte(s[i:len(s)-n+1], c0)
			if j < 0 {
				return -1
			}
			i += j
			if equalFold(s[i:i+n], low) {
				return i
			}
			i++
		}
		return -1
	}
	up := c0 - ('a' - 'A')
	last := len(s) - n + 1 // candidates lie in s[:last]
	nextLow, nextUp := -2, -2
	for i := 0; i < last; {
		if nextLow != -1 && nextLow < i {
			if j := strings.IndexByte(s[i:last], c0); j < 0 {
				nextLow = -1
			} else {
				nextLow = i + j
			}
		}
		if nextUp != -1 && nextUp < i {
			if j := strings.IndexByte(s[i:last], up); j < 0 {
				nextUp = -1
			} else {
				nextUp = i + j
			}
		}
		switch {
		case nextLow < 0 && nextUp < 0:
			return -1
		case nextUp < 0 || (nextLow >= 0 && nextLow < nextUp):
			i = nextLow
		default:
			i = nextUp
		}
		if equalFold(s[i+1:i+n], low[1:]) {
			return i
		}
		i++
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
	for _, seg := range g.segs[1 : len(g.segs)-1] {
		i := indexFold(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return true
}

// contains reports whether the segments occur in s in order, anywhere: the
// bare-word search, where "kubyk*ns" finds kubyk ... ns on one line.
func (g *glob) contains(s string) bool {
	if len(s) < g.minLen {
		return false
	}
	for _, seg := range g.segs {
		i := indexFold(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
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
