//go:build race

package source

// rotations is how many times TestFollowThroughLumberjackRotations rotates:
// fewer under the race detector, which makes every write ten times slower.
const rotations = 20
