package app

import (
	"regexp"
	"strings"
)

// Sentence is an error as a person reads it, written in one place for every edge (the desktop,
// kithd, a join's last error): the package prefixes that errors collect on their way up
// ("app: ", "storage: ", …) go, wherever they are in the chain, and it is one line.
func Sentence(err error) string {
	if err == nil {
		return ""
	}
	s := prefixes.ReplaceAllString(err.Error(), "$1")
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// prefixes are the packages whose errors start with their name: every package of the module
// that returns errors to an edge.
var prefixes = regexp.MustCompile(`(^|: |\()(?:app|peer|p2p|ui|invite|storage|localstore|gossip|community|identity|probe|book): `)
