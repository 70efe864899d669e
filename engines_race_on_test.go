//go:build race

package main

// raceOn: the test binary runs under the race detector (the differential
// test then runs a smaller sample).
const raceOn = true
