//go:build race

package ui

// raceEnabled: the tests run under the race detector (5 to 20 times slower):
// the biggest ones use smaller stores.
const raceEnabled = true
