// Package completion completes kauditui's command lines, as cobra does it:
// `kauditui completion SHELL` prints a script (Script) whose one job is to
// call `kauditui __complete WORDS...` (the words after kauditui up to the
// cursor, the last the one being completed) and offer the lines it prints
// (Commands.Complete). The flags come from the FlagSets the commands build,
// the filter's fields from the filter package, and the values from the
// newest part of the log: nothing is listed twice.
//
// It is a package of its own because its rules (shell quoting, which words
// are values of which flag, the bounded read of the log's tail) belong to
// no other: main keeps only the two commands that call it.
package completion

import (
	"bufio"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// Budget bounds the read of the log for values: a Tab must answer at once,
// so the newest Bytes of the log, for at most this long.
const (
	Budget = 200 * time.Millisecond
	Bytes  = 8 << 20
)

// QueryOutputs are the values of query's -o (TestCompletionOutputsAreFormats
// holds them to what query accepts).
var QueryOutputs = []string{"table", "wide", "json", "klog"}

// filterFlags are the flags whose value is a filter expression.
var filterFlags = []string{"filter", "rbac"}

// Commands is what completion knows of the program.
type Commands struct {
	// Subcommands are the words read as a command, not a SOURCE.
	Subcommands []string
	// Flags is a command's FlagSet ("" for the explorer), as the command
	// builds it, or nil.
	Flags func(cmd string) *pflag.FlagSet
	// DefaultLog is the log kauditui reads with no SOURCE (the values of
	// a filter's fields come from it when the command line names none).
	DefaultLog func() string
}

// Script is the completion script of shell (bash, zsh or fish).
func Script(shell string) (string, bool) {
	s, ok := scripts[shell]
	return s, ok
}

// Complete is the candidates for cur, the last word, after the words
// before it: each a whole word that replaces it. None lets the shell
// complete file names.
func (c Commands) Complete(before []string, cur string) []string {
	cmd := ""
	if len(before) > 0 && slices.Contains(c.Subcommands, before[0]) {
		cmd, before = before[0], before[1:]
	}
	switch cmd {
	case "":
		if len(before) == 0 && !strings.HasPrefix(cur, "-") {
			return withPrefix(c.Subcommands, cur)
		}
	case "completion":
		if len(before) == 0 {
			return withPrefix([]string{"bash", "zsh", "fish"}, cur)
		}
		return nil
	case "help":
		if len(before) == 0 {
			return withPrefix([]string{"query", "setup", "completion"}, cur)
		}
		return nil
	case "version":
		return nil
	}
	fs := c.Flags(cmd)
	if fs == nil {
		return nil
	}
	// --flag=VALUE, or VALUE after a flag that takes one
	if name, val, ok := strings.Cut(cur, "="); ok && strings.HasPrefix(name, "--") {
		if f := fs.Lookup(name[2:]); f != nil {
			return prefixAll(name+"=", flagValues(f, val, c.logPath(fs, before)))
		}
		return nil
	}
	if len(before) > 0 {
		if f := valueFlag(fs, before[len(before)-1]); f != nil {
			return flagValues(f, cur, c.logPath(fs, before))
		}
	}
	if strings.HasPrefix(cur, "-") {
		var out []string
		fs.VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				out = append(out, "--"+f.Name)
				if f.Shorthand != "" && !strings.HasPrefix(cur, "--") {
					out = append(out, "-"+f.Shorthand)
				}
			}
		})
		slices.Sort(out)
		return withPrefix(out, cur)
	}
	return nil
}

// valueFlag is the flag word names when it is a flag that takes a value
// given as the next word (-q, --filter; not --filter=X, not a bool).
func valueFlag(fs *pflag.FlagSet, word string) *pflag.Flag {
	var f *pflag.Flag
	switch {
	case strings.HasPrefix(word, "--") && !strings.Contains(word, "="):
		f = fs.Lookup(word[2:])
	case len(word) == 2 && word[0] == '-':
		f = fs.ShorthandLookup(word[1:])
	}
	if f == nil || f.NoOptDefVal != "" {
		return nil
	}
	return f
}

// logPath is the log the values come from: the first SOURCE on the command
// line that is a file, else the one kauditui reads with no SOURCE: the file
// this master's apiserver manifest names, else the default path.
func (c Commands) logPath(fs *pflag.FlagSet, before []string) string {
	for i := 0; i < len(before); i++ {
		w := before[i]
		if valueFlag(fs, w) != nil {
			i++ // its value
			continue
		}
		if strings.HasPrefix(w, "-") {
			continue
		}
		if fi, err := os.Stat(w); err == nil && fi.Mode().IsRegular() {
			return w
		}
	}
	return c.DefaultLog()
}

func flagValues(f *pflag.Flag, cur, log string) []string {
	switch {
	case slices.Contains(filterFlags, f.Name):
		return completeFilter(cur, log)
	case f.Name == "top":
		return withPrefix(filter.TopFields(), cur)
	case f.Name == "output":
		return withPrefix(QueryOutputs, cur)
	}
	return nil
}

// completeFilter completes the last term of a filter expression: a field
// name (with its =), or a value of the field from the log (filter.Complete,
// which the explorer's filter bar calls too).
func completeFilter(word, log string) []string {
	return filter.Complete(word, func(field string) []string {
		return LogValues(log, field, Budget, Bytes)
	})
}

// LogValues are the values of a field (one of filter.TopFields) in the
// newest part of the log, as --top counts them, sorted: at most maxBytes
// from the end, read for at most budget. Values a shell word cannot hold
// as they are (space, quote, control characters: render.Sanitize would
// change them) are left out; a log is hostile.
func LogValues(path, field string, budget time.Duration, maxBytes int64) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	deadline := time.Now().Add(budget)
	start := max(0, fi.Size()-maxBytes)
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	if start > 0 {
		sc.Scan() // the line cut in two
	}
	store := audit.NewStore()
	seen := make(map[*audit.Request]bool)
	for n := 0; sc.Scan(); n++ {
		if n%256 == 0 && time.Now().After(deadline) {
			break
		}
		if r, _, ok := store.AddEvent(sc.Bytes(), audit.Ref{}); ok {
			seen[r] = true
		}
	}
	set := make(map[string]bool)
	for r := range seen {
		v := filter.TopValue(r, field)
		if v == "" || v != render.Sanitize(v) || strings.ContainsAny(v, " \t'\"\\$`") {
			continue
		}
		set[v] = true
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

func withPrefix(list []string, prefix string) []string {
	var out []string
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			out = append(out, s)
		}
	}
	return out
}

func prefixAll(p string, list []string) []string {
	for i := range list {
		list[i] = p + list[i]
	}
	return list
}

var scripts = map[string]string{
	"bash": `# bash completion for kauditui.  source <(kauditui completion bash)
_kauditui() {
    # The words up to the cursor, split on blanks only: "user=al" stays one
    # word for kauditui, though bash breaks words at = and :.
    local line=${COMP_LINE:0:COMP_POINT}
    local -a words
    read -r -a words <<<"$line"
    if [[ ${#words[@]} -eq 0 || $line == *[[:space:]] ]]; then words+=(""); fi
    local word=${words[${#words[@]}-1]} cur=${COMP_WORDS[COMP_CWORD]} strip=""
    # bash replaces only what it calls the word (after the last = or :)
    if [[ $cur != "$word" && $word == *"$cur" ]]; then strip=${word:0:${#word}-${#cur}}; fi
    if [[ $cur == [=:] ]]; then strip=${word%"$cur"}; fi
    local IFS=$'\n' c
    COMPREPLY=()
    for c in $("${words[0]}" __complete "${words[@]:1}" 2>/dev/null); do
        COMPREPLY+=("${c#"$strip"}")
    done
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *[=,] ]]; then compopt -o nospace 2>/dev/null; fi
}
complete -o default -o bashdefault -F _kauditui kauditui
`,
	"zsh": `#compdef kauditui
# zsh completion for kauditui.  kauditui completion zsh > "${fpath[1]}/_kauditui"
_kauditui() {
    local -a cands eq other
    local c
    cands=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if [[ ${#cands[@]} -eq 0 || -z ${cands[1]} ]]; then
        _files
        return
    fi
    for c in $cands; do
        if [[ $c == *[=,] ]]; then eq+=("$c"); else other+=("$c"); fi
    done
    (( ${#eq[@]} )) && compadd -Q -S '' -- "${eq[@]}"
    (( ${#other[@]} )) && compadd -Q -- "${other[@]}"
}
if [ "$funcstack[1]" = "_kauditui" ]; then
    _kauditui "$@"
else
    compdef _kauditui kauditui
fi
`,
	"fish": `# fish completion for kauditui.  kauditui completion fish > ~/.config/fish/completions/kauditui.fish
function __kauditui_complete
    set -l words (commandline -opc)
    # fish matches candidates against the token without its opening quote
    set -l cur (string replace -r -- '^[\'"]' '' (commandline -ct))
    $words[1] __complete $words[2..-1] "$cur" 2>/dev/null
end
complete -c kauditui -a '(__kauditui_complete)'
`,
}

// NearestFlag is the flag of fs nearest to the unknown one pflag's error
// names, as --name or -x, or "".
func NearestFlag(fs *pflag.FlagSet, msg string) string {
	var bad string
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		bad = strings.TrimPrefix(msg, "unknown flag: --")
	default:
		return ""
	}
	var names []string
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	if n := filter.Nearest(bad, names); n != "" {
		return "--" + n
	}
	return ""
}
