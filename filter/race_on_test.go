//go:build race

package filter

// raceEnabled: the race detector makes sync.Pool drop what is put back,
// so a pooled buffer is allocated again now and then.
const raceEnabled = true
