package main

import "github.com/kauditui/kauditui/render"

// sanitize escapes control characters in log text before it is printed.
var sanitize = render.Sanitize
