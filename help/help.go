// Package help is kauditui's help text: each command's usage (NAME.txt,
// NAME the FlagSet's name; "top" for kauditui --help) and its examples
// (NAME.examples.txt), prose kept apart from the code.
package help

import (
	"embed"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/setup"
)

//go:embed *.txt
var files embed.FS

// Text is the text of NAME.txt, "" when there is none.
func Text(name string) string {
	b, _ := files.ReadFile(name + ".txt")
	return strings.ReplaceAll(string(b), "$DefaultLogPath", setup.DefaultLogPath)
}

// Print writes a command's usage, its flags and examples.
func Print(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, Text(fs.Name()))
	fs.SetOutput(w)
	fs.PrintDefaults()
	if ex := Text(fs.Name() + ".examples"); ex != "" {
		fmt.Fprint(w, "\nExamples:\n"+ex)
	}
}
