//go:build !race

package source

// rotations is how many times TestFollowThroughLumberjackRotations rotates.
const rotations = 100
